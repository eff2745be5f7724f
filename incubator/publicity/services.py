"""Results and 公示 services: the funding list, approval with amounts, the 公示, objections, finalising.

Services take model objects and typed keyword arguments, change data, ``flush()`` and never commit. They
raise ``PublicityError`` (Chinese ``message``, ``status_code`` 409 or 422; ``errors`` per item id for the
amounts) that views turn into a flash and a 4xx.

Rules (DOMAIN.md 公益创投 practice):
  * an amount is exact (Decimal, 分), > 0, ≥ the call's minimum grant, ≤ its maximum and ≤ what the
    application requested; the list's total ≤ the call's fund pool;
  * 公示 lasts N working days (setting ``PUBLICITY_WORKDAYS``, default 5 — Shenzhen Futian practice):
    ends_on = add_workdays(starts_on, N) on the Chinese working-day calendar (调休 included);
  * anyone may object while it runs; an upheld objection cancels that grant;
  * when the period has ended and no objection is open, the results become final and the organisations
    are told (notification + e-mail).
"""
from __future__ import annotations

import os
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import current_app, has_app_context
from sqlalchemy import func
from sqlalchemy.orm import joinedload, selectinload

from incubator.accounts.models import Role, User
from incubator.applications.models import Application, ApplicationStatus
from incubator.calls.models import Call
from incubator.core import audit
from incubator.core.states import InvalidTransition, transition
from incubator.core.workdays import UnknownCalendarYear, add_workdays
from incubator.db import CENT, today_local, utcnow
from incubator.extensions import db
from incubator.publicity.models import (
    FundingItem,
    FundingList,
    FundingListStatus,
    Objection,
    ObjectionStatus,
    Publicity,
    PublicityStatus,
)

# 公示 lasts 5 working days: Shenzhen Futian practice (DOMAIN.md "公益创投 practice"); a setting.
DEFAULT_PUBLICITY_WORKDAYS = 5
MAX_OBJECTION_LENGTH = 2000
MIN_OBJECTION_LENGTH = 10
MAX_ANSWER_LENGTH = 2000


class PublicityError(Exception):
    status_code = 409

    def __init__(self, message: str, status_code: int | None = None, errors: dict | None = None):
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.errors = errors or {}
        super().__init__(message)


class InvalidInput(PublicityError):
    status_code = 422


def setting(name: str, default):
    if has_app_context() and name in current_app.config:
        return current_app.config[name]
    raw = os.environ.get(name)
    return default if raw in (None, "") else type(default)(raw)


def publicity_workdays() -> int:
    n = int(setting("PUBLICITY_WORKDAYS", DEFAULT_PUBLICITY_WORKDAYS))
    return n if n >= 1 else DEFAULT_PUBLICITY_WORKDAYS


def may_manage(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role in (Role.STAFF, Role.ADMIN)


def _clean(text: str | None, limit: int) -> str:
    return (text or "").replace("\x00", "").strip()[:limit]


def _yuan(value: Decimal) -> str:
    return f"¥{value:,.2f}"


# --------------------------------------------------------------------------- the funding list


def funding_list_for(call: Call) -> FundingList | None:
    return db.session.scalar(
        db.select(FundingList)
        .options(selectinload(FundingList.items).joinedload(FundingItem.application).joinedload(Application.org),
                 joinedload(FundingList.call))
        .where(FundingList.call_id == call.id)
    )


def visible_lists(user) -> list[FundingList]:
    stmt = (db.select(FundingList).join(FundingList.call)
            .options(joinedload(FundingList.call).joinedload(Call.district), selectinload(FundingList.items),
                     selectinload(FundingList.publicity))
            .order_by(FundingList.id.desc()))
    if not (user.is_admin or user.is_city_staff):
        stmt = stmt.where(Call.district_id == user.district_id)
    return list(db.session.scalars(stmt))


def propose(round_, applications: Iterable[Application], *, by, ranks: Mapping[int, tuple[int | None, Decimal | None]]
            | None = None) -> tuple[int, int]:
    """The call's funding list (created if needed) becomes exactly ``applications`` from ``round_``'s ranking.

    Added applications go passed → proposed with the amount they requested as the starting amount; those no
    longer selected go back to passed. Only while the list is a draft. ``ranks``: application id →
    (position, official score). Returns (added, removed).
    """
    from incubator.review.models import RoundStatus

    if round_.status != RoundStatus.CLOSED:
        raise PublicityError("本轮评分结束后才能确定拟资助名单。请先在轮次页面结束评分。")
    apps = list(applications)
    if not apps:
        raise InvalidInput("请至少选择一份列入拟资助名单的申请。")
    in_round = {e.application_id for e in round_.entries}
    for app in apps:
        if app.id not in in_round or app.call_id != round_.call_id:
            raise InvalidInput(f"申请 {app.number} 不在本轮评审中。")
    call = round_.call
    flist = funding_list_for(call)
    if flist is None:
        flist = FundingList(call_id=call.id, round_id=round_.id, status=FundingListStatus.DRAFT)
        db.session.add(flist)
        db.session.flush()
    if flist.status != FundingListStatus.DRAFT:
        raise PublicityError(f"拟资助名单{flist.status.label}，不能再调整。如需调整，请先撤回审定。")
    for app in apps:
        if app.status not in (ApplicationStatus.PASSED, ApplicationStatus.PROPOSED):
            raise PublicityError(f"申请 {app.number} 当前状态为“{app.status.label}”，不能列入拟资助名单。")
    ranks = ranks or {}
    wanted = {a.id for a in apps}
    current = {i.application_id: i for i in flist.items}
    removed = 0
    for app_id, item in list(current.items()):
        if app_id not in wanted:
            transition(item.application, ApplicationStatus.PASSED, by=by, note="移出拟资助名单")
            flist.items.remove(item)
            removed += 1
    added = 0
    for app in apps:
        position, score = ranks.get(app.id, (None, None))
        item = current.get(app.id)
        if item is None:
            transition(app, ApplicationStatus.PROPOSED, by=by, note=f"列入拟资助名单（{round_.title}）")
            item = FundingItem(application_id=app.id, amount=app.grant_requested if app.grant_requested > 0 else None,
                               added_by_id=getattr(by, "id", None))
            item.application = app
            flist.items.append(item)
            added += 1
        item.position = position or 0
        item.score = score
    flist.round_id = round_.id
    flist.items.sort(key=lambda i: (i.position or 10**6, i.application.number or ""))
    db.session.flush()
    audit.record("funding_list.propose", flist, after={"round": round_.id, "applications": sorted(
        a.number or str(a.id) for a in apps)}, actor=by)
    return added, removed


def check_amount(item: FundingItem, amount: Decimal | None) -> str | None:
    """Why ``amount`` cannot be this item's grant (Chinese), or None when it can."""
    app, call = item.application, item.funding_list.call
    if amount is None:
        return "请填写拟资助金额"
    if not isinstance(amount, Decimal) or not amount.is_finite():
        return "金额格式不正确"
    if amount != amount.quantize(CENT):
        return "金额最多保留两位小数（精确到分）"
    if amount <= 0:
        return "拟资助金额须大于 0"
    if amount > app.grant_requested:
        return f"不能超过申请资助金额 {_yuan(app.grant_requested)}"
    if amount < call.grant_min:
        return f"不能低于本通知的最低资助额 {_yuan(call.grant_min)}"
    if amount > call.grant_max:
        return f"不能超过本通知的最高资助额 {_yuan(call.grant_max)}"
    return None


def set_amounts(flist: FundingList, amounts: Mapping[int, Decimal | None], *, by) -> None:
    """Store the amounts of a draft list (item id → Decimal). Every amount is checked; nothing is saved when
    one is refused (``errors`` by item id)."""
    if flist.status != FundingListStatus.DRAFT:
        raise PublicityError(f"拟资助名单{flist.status.label}，金额不能再修改。")
    items = {i.id: i for i in flist.items}
    errors = {}
    for item_id, amount in amounts.items():
        item = items.get(item_id)
        if item is None:
            raise InvalidInput("所填金额的项目不在拟资助名单中。")
        if amount is not None:
            problem = check_amount(item, amount)
            if problem:
                errors[item_id] = problem
    if errors:
        raise InvalidInput("金额未保存：" + "；".join(f"{items[i].application.number} {m}" for i, m in errors.items()),
                           errors=errors)
    before = {items[i].application.number: items[i].amount for i in amounts}
    for item_id, amount in amounts.items():
        items[item_id].amount = amount
    db.session.flush()
    audit.record("funding_list.amounts", flist, before=before,
                 after={items[i].application.number: a for i, a in amounts.items()}, actor=by)


def approval_problems(flist: FundingList) -> tuple[dict[int, str], str | None]:
    """(problems by item id, a problem of the whole list) — empty when the list can be approved."""
    errors = {i.id: p for i in flist.active_items if (p := check_amount(i, i.amount))}
    whole = None
    if not flist.active_items:
        whole = "拟资助名单为空"
    else:
        total = flist.proposed_total
        pool = flist.call.fund_pool
        if total > pool:
            whole = f"拟资助金额合计 {_yuan(total)} 超过本通知资金总额 {_yuan(pool)}（超出 {_yuan(total - pool)}）"
    return errors, whole


def approve(flist: FundingList, *, by) -> Decimal:
    """draft → approved, with every amount within its limits and the total within the fund pool."""
    if flist.status != FundingListStatus.DRAFT:
        raise PublicityError(f"拟资助名单{flist.status.label}，不能再次审定。")
    errors, whole = approval_problems(flist)
    if errors or whole:
        parts = [f"{i.application.number} {errors[i.id]}" for i in flist.active_items if i.id in errors]
        if whole:
            parts.append(whole)
        raise InvalidInput("不能审定：" + "；".join(parts), errors=errors)
    total = flist.proposed_total
    transition(flist, FundingListStatus.APPROVED, by=by, note=f"审定拟资助名单，合计 {_yuan(total)}")
    flist.total = total
    flist.approved_at = utcnow()
    flist.approved_by_id = getattr(by, "id", None)
    db.session.flush()
    audit.record("funding_list.approve", flist, after={
        "total": total, "fund_pool": flist.call.fund_pool,
        "items": {i.application.number: i.amount for i in flist.active_items}}, actor=by)
    return total


def withdraw_approval(flist: FundingList, *, by, reason: str) -> None:
    reason = _clean(reason, 1000)
    if not reason:
        raise InvalidInput("请填写撤回审定的原因")
    if flist.status != FundingListStatus.APPROVED:
        raise PublicityError("只有已审定、尚未公示的名单才能撤回审定。")
    transition(flist, FundingListStatus.DRAFT, by=by, note=reason)
    flist.total = None
    flist.approved_at = None
    flist.approved_by_id = None
    db.session.flush()


# --------------------------------------------------------------------------- 公示


def default_title(call: Call) -> str:
    return f"{call.title}拟资助项目公示"


def default_notice(call: Call, workdays: int) -> str:
    return (f"经资格审查、专家评审，现将{call.title}拟资助项目予以公示，公示期为 {workdays} 个工作日。"
            "公示期内，如对拟资助项目有异议，可通过本页面提交书面意见，请写明真实姓名和联系方式，"
            "以便核实情况、反馈结果。匿名、无具体事实依据的意见不予受理。")


def end_date(start: date, workdays: int | None = None) -> date:
    """The last day of a 公示 starting on ``start``: the N-th working day after it."""
    n = workdays if workdays is not None else publicity_workdays()
    try:
        return add_workdays(start, n)
    except UnknownCalendarYear as exc:
        raise PublicityError(str(exc)) from exc


def start_publicity(flist: FundingList, *, by, start: date | None = None, workdays: int | None = None,
                    title: str | None = None, notice: str | None = None, contact: str = "") -> Publicity:
    """approved → publicizing: the applications go proposed → publicized; the 公示 opens on the public site."""
    if flist.status != FundingListStatus.APPROVED:
        raise PublicityError("拟资助名单审定后才能开始公示。")
    call = flist.call
    n = workdays if workdays is not None else publicity_workdays()
    if n < 1 or n > 30:
        raise InvalidInput("公示期应为 1–30 个工作日")
    start = start or today_local()
    ends = end_date(start, n)
    transition(flist, FundingListStatus.PUBLICIZING, by=by, note=f"开始公示，{start} 至 {ends}")
    for item in flist.active_items:
        transition(item.application, ApplicationStatus.PUBLICIZED, by=by, note=f"公示至 {ends}")
    pub = Publicity(list_id=flist.id, call_id=call.id, title=_clean(title, 200) or default_title(call),
                    notice=_clean(notice, 5000) or default_notice(call, n), contact=_clean(contact, 200),
                    starts_on=start, ends_on=ends, workdays=n, status=PublicityStatus.OPEN,
                    started_by_id=getattr(by, "id", None))
    db.session.add(pub)
    db.session.flush()
    audit.record("publicity.start", pub, after={"starts_on": start, "ends_on": ends, "workdays": n,
                                                "items": len(flist.active_items), "total": flist.proposed_total},
                 actor=by)
    return pub


def publicity_experts(flist: FundingList) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(round title, [(name, title), …])] — the experts of every round of the call up to the list's round."""
    from incubator.pools.models import Expert
    from incubator.review.models import Assignment, ReviewRound

    limit = flist.round.sequence if flist.round is not None else None
    stmt = (db.select(ReviewRound.id, ReviewRound.sequence, ReviewRound.name, Expert.name, Expert.title)
            .join(Assignment, Assignment.round_id == ReviewRound.id)
            .join(Expert, Expert.id == Assignment.expert_id)
            .where(ReviewRound.call_id == flist.call_id, Assignment.status.in_(Assignment.ACTIVE))
            .distinct()
            .order_by(ReviewRound.sequence, Expert.name))
    if limit is not None:
        stmt = stmt.where(ReviewRound.sequence <= limit)
    out: dict[int, tuple[str, list]] = {}
    for round_id, seq, rname, ename, etitle in db.session.execute(stmt):
        out.setdefault(round_id, (f"第{seq}轮 {rname}", []))[1].append((ename, etitle or ""))
    return list(out.values())


def public_publicities() -> list[Publicity]:
    """Every started 公示, the open ones first, newest first (the public list)."""
    return list(db.session.scalars(
        db.select(Publicity)
        .options(joinedload(Publicity.call), joinedload(Publicity.funding_list).selectinload(FundingList.items))
        .order_by(Publicity.status, Publicity.starts_on.desc(), Publicity.id.desc())
    ))


def open_publicities(limit: int = 5) -> list[Publicity]:
    return list(db.session.scalars(
        db.select(Publicity).where(Publicity.status == PublicityStatus.OPEN)
        .options(joinedload(Publicity.call))
        .order_by(Publicity.ends_on, Publicity.id).limit(limit)
    ))


def load_publicity(publicity_id: int) -> Publicity | None:
    return db.session.scalar(
        db.select(Publicity)
        .options(joinedload(Publicity.call),
                 joinedload(Publicity.funding_list).selectinload(FundingList.items)
                 .joinedload(FundingItem.application).joinedload(Application.org),
                 joinedload(Publicity.funding_list).joinedload(FundingList.round))
        .where(Publicity.id == publicity_id)
    )


# --------------------------------------------------------------------------- objections

_PHONE = re.compile(r"^(?:1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e"), None)


@dataclass
class ObjectionInput:
    name: str
    phone: str = ""
    email: str = ""
    content: str = ""
    item_id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)


def clean_objection(*, name: str | None, phone: str | None, email: str | None, content: str | None,
                    item_id: int | None) -> ObjectionInput:
    """Normalised input and errors by field name (Chinese). NUL bytes, control characters and over-long text
    are refused, never silently cut."""
    errors: dict[str, str] = {}

    def line(text: str | None) -> str:
        text = unicodedata.normalize("NFKC", text or "").translate(_ZERO_WIDTH)
        return " ".join(text.split())

    raw = {"name": name or "", "phone": phone or "", "email": email or "", "content": content or ""}
    for key, value in raw.items():
        if "\x00" in value:
            errors[key] = "包含非法字符"
    n = line(name)
    if "name" not in errors:
        if not n:
            errors["name"] = "请填写真实姓名"
        elif len(n) > 50:
            errors["name"] = "姓名不能超过 50 个字"
    p = line(phone).replace(" ", "")
    if "phone" not in errors and p and not _PHONE.match(p):
        errors["phone"] = "请填写正确的手机号或固定电话（如 0379-12345678）"
    e = line(email).lower()
    if "email" not in errors and e and (len(e) > 254 or not _EMAIL.match(e)):
        errors["email"] = "请填写正确的电子邮箱"
    if not p and not e and "phone" not in errors and "email" not in errors:
        errors["phone"] = "请至少填写联系电话或电子邮箱中的一项，以便反馈处理结果"
    c = (content or "").replace("\r\n", "\n").translate(_ZERO_WIDTH).strip()
    if "content" not in errors:
        if len(c) < MIN_OBJECTION_LENGTH:
            errors["content"] = f"请写明异议的具体事实和理由（不少于 {MIN_OBJECTION_LENGTH} 个字）"
        elif len(c) > MAX_OBJECTION_LENGTH:
            errors["content"] = f"异议内容不能超过 {MAX_OBJECTION_LENGTH} 个字，可分多次提交"
        elif any(ord(ch) < 32 and ch not in "\n\t" for ch in c):
            errors["content"] = "包含非法字符"
    return ObjectionInput(name=n, phone=p, email=e, content=c, item_id=item_id, errors=errors)


def _reference(today: date) -> str:
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    for _ in range(10):
        ref = f"YY{today:%Y%m%d}-" + "".join(secrets.choice(alphabet) for _ in range(6))
        if not db.session.scalar(db.select(func.count(Objection.id)).where(Objection.reference == ref)):
            return ref
    raise PublicityError("暂时无法生成受理编号，请稍后重试。")  # pragma: no cover - 32^6 references a day


def file_objection(publicity: Publicity, data: ObjectionInput, *, ip: str | None = None,
                   today: date | None = None) -> Objection:
    """Anyone files an objection while the 公示 runs; returns it with its reference number."""
    today = today or today_local()
    if not publicity.accepts_objections(today):
        raise PublicityError("该公示不在公示期内，不能再提交异议。")
    if data.errors:
        raise InvalidInput("异议未提交：请按提示修改。", errors=data.errors)
    item = None
    if data.item_id is not None:
        item = next((i for i in publicity.funding_list.items if i.id == data.item_id), None)
        if item is None:
            raise InvalidInput("异议未提交：所选项目不在本次公示中。", errors={"item_id": "请选择本次公示中的项目"})
    obj = Objection(publicity_id=publicity.id, item_id=item.id if item else None, reference=_reference(today),
                    name=data.name, phone=data.phone, email=data.email, content=data.content,
                    status=ObjectionStatus.OPEN, ip=(ip or "")[:64] or None)
    db.session.add(obj)
    db.session.flush()
    audit.record("objection.file", obj, after={"publicity": publicity.id, "reference": obj.reference,
                                               "item": item.application.number if item else None})
    _tell_staff(publicity, obj)
    return obj


def _tell_staff(publicity: Publicity, obj: Objection) -> None:
    from incubator.notifications.services import notify_many

    call = publicity.call
    stmt = db.select(User).where(User.role == Role.STAFF, User.active.is_(True))
    stmt = stmt.where(User.district_id == call.district_id) if call.district_id else stmt.where(User.district_id.is_(None))
    users = list(db.session.scalars(stmt.order_by(User.id)))
    notify_many(users, f"收到公示异议：{obj.reference}", f"{publicity.title}收到一条异议，请在公示管理中核实并答复。",
                f"/staff/publicity/objections/{obj.id}")


def answer_objection(obj: Objection, *, upheld: bool, answer: str, by, item: FundingItem | None = None) -> None:
    """Staff answer: upheld (成立) cancels the grant it concerns; not upheld (不成立) keeps the list."""
    answer = _clean(answer, MAX_ANSWER_LENGTH + 1)
    if not answer:
        raise InvalidInput("请填写答复意见")
    if len(answer) > MAX_ANSWER_LENGTH:
        raise InvalidInput(f"答复意见不能超过 {MAX_ANSWER_LENGTH} 个字")
    publicity = obj.publicity
    if publicity.status != PublicityStatus.OPEN:
        raise PublicityError("公示已结束，结果已确定，不能再答复异议。")
    target = item or obj.item
    if upheld:
        if target is None:
            raise InvalidInput("异议成立时请选择被取消资助的项目")
        if target.list_id != publicity.list_id:
            raise InvalidInput("所选项目不在本次公示中")
        if not target.active:
            raise PublicityError(f"{target.application.number} 的资助已被取消。")
    try:
        transition(obj, ObjectionStatus.UPHELD if upheld else ObjectionStatus.NOT_UPHELD, by=by, note=answer)
    except InvalidTransition as exc:
        raise PublicityError("该异议已答复。") from exc
    obj.answer = answer
    obj.answered_at = utcnow()
    obj.answered_by_id = getattr(by, "id", None)
    if upheld:
        obj.item_id = target.id
        cancel_grant(target, by=by, reason=f"公示异议成立（受理编号 {obj.reference}）：{answer}")
    db.session.flush()
    _tell_objector(obj)


def _tell_objector(obj: Objection) -> None:
    from incubator.core.mail import InvalidMail, queue_mail

    if not obj.email:
        return
    try:
        queue_mail(obj.email, f"公示异议答复（受理编号 {obj.reference}）",
                   f"{obj.name}：\n\n您对“{obj.publicity.title}”提出的异议（受理编号 {obj.reference}）已处理。\n"
                   f"处理结论：异议{obj.status.label}。\n答复意见：{obj.answer}\n\n"
                   f"{current_app.config.get('CITY_NAME', '')}民政局")
    except InvalidMail:
        pass


def cancel_grant(item: FundingItem, *, by, reason: str) -> None:
    """publicized → cancelled: the grant is withdrawn (audited as a money movement); the organisation is told."""
    app = item.application
    transition(app, ApplicationStatus.CANCELLED, by=by, note=reason)
    item.cancelled_at = utcnow()
    item.cancel_reason = reason
    db.session.flush()
    audit.record("funding.cancel", item, before={"amount": item.amount, "application": app.number},
                 after={"amount": Decimal("0.00")}, note=reason, actor=by)
    _tell_org(app, f"取消资助：{app.number}",
              f"您单位申报的{app.quoted_title}（{app.number}）在公示期间收到异议，经核实异议成立，取消拟资助。\n{reason}")


def _tell_org(app: Application, title: str, body: str) -> None:
    from incubator.core.mail import InvalidMail, queue_mail
    from incubator.notifications.services import notify_many

    link = f"/applications/{app.id}"
    members = list(db.session.scalars(
        db.select(User).where(User.org_id == app.org_id, User.role == Role.APPLICANT, User.active.is_(True))
        .order_by(User.id)))
    notify_many(members, title, body, link)
    base = current_app.config.get("BASE_URL", "").rstrip("/")
    recipients = [m.email for m in members] + ([app.org.contact_email] if app.org.contact_email else [])
    for to in dict.fromkeys(r.strip().lower() for r in recipients if r):
        try:
            queue_mail(to, title, f"{body}\n\n查看申报书：{base}{link}\n\n{current_app.config.get('PLATFORM_NAME', '')}")
        except InvalidMail:
            continue


# --------------------------------------------------------------------------- finalising


def finalize_problem(publicity: Publicity, today: date) -> str | None:
    if publicity.status != PublicityStatus.OPEN:
        return "公示已结束，结果已确定。"
    if not publicity.has_ended(today):
        return f"公示期至 {publicity.ends_on.year}年{publicity.ends_on.month}月{publicity.ends_on.day}日，期满后才能确定结果。"
    open_count = sum(1 for o in publicity.objections if o.is_open)
    if open_count:
        return f"还有 {open_count} 条异议尚未答复，答复后才能确定结果。"
    return None


def finalize(publicity: Publicity, *, by, today: date | None = None) -> int:
    """The results become final: publicized → funded for every remaining grant; the organisations are told.
    Returns how many grants were confirmed."""
    today = today or today_local()
    problem = finalize_problem(publicity, today)
    if problem:
        raise PublicityError(problem)
    flist = publicity.funding_list
    transition(publicity, PublicityStatus.FINAL, by=by, note="公示期满，无未答复异议")
    transition(flist, FundingListStatus.FINAL, by=by, note="公示期满，结果已确定")
    publicity.finalized_at = utcnow()
    publicity.finalized_by_id = getattr(by, "id", None)
    confirmed = 0
    for item in flist.active_items:
        app = item.application
        transition(app, ApplicationStatus.FUNDED, by=by, note=f"公示期满，确定资助 {_yuan(item.amount)}")
        confirmed += 1
        _tell_org(app, f"确定资助：{app.number}",
                  f"您单位申报的{app.quoted_title}（{app.number}）公示期满，确定资助 {_yuan(item.amount)}。"
                  "请留意后续立项和签订资助协议的通知。")
    db.session.flush()
    audit.record("publicity.finalize", publicity, after={"funded": confirmed, "total": flist.proposed_total},
                 actor=by)
    return confirmed


def finalize_due(today: date | None = None, *, by=None) -> list[tuple[Publicity, int | None, str | None]]:
    """Finalise every open 公示 whose period has ended; [(publicity, confirmed or None, why not)]."""
    today = today or today_local()
    due = list(db.session.scalars(
        db.select(Publicity).options(selectinload(Publicity.objections))
        .where(Publicity.status == PublicityStatus.OPEN, Publicity.ends_on < today).order_by(Publicity.id)))
    out = []
    for pub in due:
        problem = finalize_problem(pub, today)
        if problem:
            out.append((pub, None, problem))
            continue
        out.append((pub, finalize(pub, by=by, today=today), None))
    return out


def count_open_objections(user) -> int:
    """Nav count: unanswered objections of the 公示 in the user's scope."""
    if not may_manage(user):
        return 0
    stmt = (db.select(func.count(Objection.id)).join(Publicity, Publicity.id == Objection.publicity_id)
            .join(Call, Call.id == Publicity.call_id).where(Objection.status == ObjectionStatus.OPEN))
    if not (user.is_admin or user.is_city_staff):
        stmt = stmt.where(Call.district_id == user.district_id)
    return int(db.session.scalar(stmt) or 0)
