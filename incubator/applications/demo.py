"""Demo applications in every state: ``seed_applications(calls, orgs, today)``.

Called by the integrator's demo loader after the calls (``incubator.calls.demo.seed_calls``) and the
organisations exist; the caller commits. Applications are written directly (the demo bypasses the
submission checks and the deadlines), but every status change goes through ``transition`` so the
history pages look as they would in real use, and every submitted version has its snapshot and a
queued PDF job.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from incubator.accounts.models import Role, User
from incubator.applications.models import (
    Application,
    ApplicationBudgetLine,
    ApplicationPlanRow,
    ApplicationStatus,
    ApplicationTeamMember,
    ApplicationVersion,
    FundingSource,
)
from incubator.applications.numbering import allocate_number
from incubator.applications.services import recompute_totals, start_pdf
from incubator.calls.models import BudgetCategory, Call, CallStatus, FieldKind
from incubator.core.states import StatusHistory, transition
from incubator.db import utcnow
from incubator.extensions import db
from incubator.notifications.services import notify_many
from incubator.orgs.models import Organization, ServiceField, Verification

S = ApplicationStatus


@dataclass(frozen=True)
class Idea:
    title: str
    field: ServiceField
    beneficiaries: str
    count: int
    need: str
    goal: str
    sub_goals: tuple[str, ...]


IDEAS = [
    Idea("“银龄互助”社区居家养老服务项目", ServiceField.ELDERLY, "辖区内60岁以上独居、空巢老人", 320,
         "社区60岁以上老人占常住人口23%，其中独居、空巢老人186人，日常照应和精神慰藉需求突出。",
         "建立以低龄老人服务高龄老人的社区互助养老网络。",
         ("组建低龄老人志愿者队伍50人", "开展入户探访1200人次", "开展互助小组活动24场")),
    Idea("“七彩课堂”困境儿童课后陪伴计划", ServiceField.YOUTH, "社区困境儿童及留守儿童", 80,
         "辖区困境儿童放学后缺少看护和学业辅导，家长多为务工人员。",
         "为困境儿童提供安全、有益的课后陪伴和成长支持。",
         ("开设课后陪伴课堂160课时", "建立一对一成长档案80份", "组织亲子活动8场")),
    Idea("“同行”残障人士社区融合就业支持项目", ServiceField.DISABILITY, "16至45岁有就业意愿的残障人士", 60,
         "辖区登记残障人士中有就业意愿者约120人，缺少技能培训和就业岗位对接。",
         "帮助残障人士提升职业技能、实现社区融合就业。",
         ("开展职业技能培训12期", "对接爱心岗位30个", "实现稳定就业15人")),
    Idea("“邻里议事厅”社区协商治理能力建设项目", ServiceField.COMMUNITY_GOVERNANCE, "社区居民骨干、楼栋长", 200,
         "老旧小区停车、加装电梯等公共事务矛盾多，居民参与协商渠道不足。",
         "建立常态化的居民议事协商机制，提升社区自治能力。",
         ("培育居民议事骨干40人", "召开议事会20场", "推动解决公共事务10项")),
    Idea("“护苗”托育家庭科学育儿指导项目", ServiceField.CHILDCARE, "0至3岁婴幼儿家庭", 150,
         "新建小区年轻家庭集中，科学育儿知识和普惠托育资源不足。",
         "提升婴幼儿家庭科学育儿能力。",
         ("开展育儿讲座12场", "入户指导100户", "建立家长互助群5个")),
]

# (status, call index into the open/closed calls, org index into the verified orgs, idea)
PLAN = [
    (S.DRAFT, "open", 0, 0),
    (S.SUBMITTED, "district", 0, 0),
    (S.RETURNED, "closed", 0, 1),
    (S.PASSED, "archived", 0, 3),
    (S.SUBMITTED, "open", 1, 1),
    (S.SUBMITTED, "open", 2, 2),
    (S.RESUBMITTED, "closed", 1, 0),
    (S.PASSED, "closed", 2, 4),
    (S.REJECTED, "closed", 3, 3),
    (S.WITHDRAWN, "open", 3, 4),
    (S.DRAFT, "open", 4, 3),
    (S.PASSED, "closed", 4, 0),
]


def _pick_calls(calls: list[Call], now: datetime) -> dict[str, Call]:
    by_status: dict[CallStatus, list[Call]] = {}
    for c in calls:
        by_status.setdefault(c.status_at(now), []).append(c)
    open_calls = by_status.get(CallStatus.OPEN, [])
    city_open = [c for c in open_calls if not c.district_orgs_only]
    district_open = [c for c in open_calls if c.district_orgs_only]
    closed = by_status.get(CallStatus.CLOSED, [])
    archived = by_status.get(CallStatus.ARCHIVED, [])
    fallback = city_open[0] if city_open else (open_calls[0] if open_calls else calls[0])
    return {
        "open": fallback,
        "district": district_open[0] if district_open else fallback,
        "closed": closed[0] if closed else fallback,
        "archived": archived[0] if archived else (closed[0] if closed else fallback),
    }


def _budget(call: Call, idea: Idea) -> list[ApplicationBudgetLine]:
    """A budget within the call's limits: grant about 55 % of the total, personnel ≤ 25 %."""
    grant_target = min(max(call.grant_min, Decimal("50000")), call.grant_max)
    share = Decimal(call.max_grant_share)
    total = (grant_target * 100 / min(share, Decimal("90"))).quantize(Decimal("1"))
    matching = total - grant_target
    rows = [
        (BudgetCategory.ACTIVITY, "社区服务活动", "场", (grant_target * Decimal("0.6") / 20).quantize(Decimal("0.01")), Decimal("20"), FundingSource.GRANT, "每场场地布置、物料及交通"),
        (BudgetCategory.TRAINING, "志愿者及骨干培训", "期", (grant_target * Decimal("0.25") / 5).quantize(Decimal("0.01")), Decimal("5"), FundingSource.GRANT, "讲师费与教材"),
        (BudgetCategory.PRINTING, "宣传折页与手册印刷", "批", grant_target * Decimal("0.15"), Decimal("1"), FundingSource.GRANT, "折页2000份、手册300册"),
        (BudgetCategory.PERSONNEL, "项目社工补贴", "月", (min(matching, total * Decimal("0.25")) / 12).quantize(Decimal("0.01")), Decimal("12"), FundingSource.MATCHING, "1名专职社工"),
    ]
    lines = [ApplicationBudgetLine(position=i, category=c, item=item, unit=u, unit_price=p, quantity=q, source=s, note=n)
             for i, (c, item, u, p, q, s, n) in enumerate(rows)]
    used = sum((ln.unit_price * ln.quantity).quantize(Decimal("0.01")) for ln in lines[3:])
    rest = matching - used
    if rest > 0:
        lines.append(ApplicationBudgetLine(position=4, category=BudgetCategory.MATERIALS, item="活动物资（自筹）", unit="批",
                                           unit_price=rest, quantity=Decimal("1"), source=FundingSource.MATCHING,
                                           note="组织自筹及社会捐赠"))
    return lines


def _fill(app: Application, idea: Idea, call: Call, org: Organization, start: date) -> None:
    app.title = idea.title
    app.field = ServiceField(call.themes[0]) if call.themes and idea.field.value not in call.themes else idea.field
    app.service_communities = f"{org.district.name if org.district else ''}相关街道及社区"
    app.beneficiaries_description = idea.beneficiaries
    app.beneficiaries_count = idea.count
    app.period_start = start
    app.period_end = start + timedelta(days=364)
    app.supervisor = f"{org.district.name if org.district else ''}民政局及所在街道办事处"
    app.requester = "项目所在社区居民委员会"
    app.summary = f"{idea.goal}项目立足社区需求，整合志愿者与社区资源，形成可复制的服务模式。"
    app.need_analysis = idea.need
    app.overall_goal = idea.goal
    app.sub_goals = list(idea.sub_goals)
    app.risks = "志愿者流失：建立积分激励；活动参与不足：联合社区提前动员。"
    app.plan_rows = [
        ApplicationPlanRow(position=0, start_on=start, end_on=start + timedelta(days=60), content="需求调研、方案细化与团队组建", output="需求评估报告1份"),
        ApplicationPlanRow(position=1, start_on=start + timedelta(days=61), end_on=start + timedelta(days=300), content="按计划开展服务活动并记录台账", output="；".join(idea.sub_goals)),
        ApplicationPlanRow(position=2, start_on=start + timedelta(days=301), end_on=start + timedelta(days=364), content="总结评估与成果展示", output="结项报告1份、案例集1册"),
    ]
    app.team_members = [
        ApplicationTeamMember(position=0, name=org.contact_name or "项目负责人", education="本科", major="社会工作", role="项目负责人",
                              qualification="中级社工师", insured=True, time_on_project="每周30小时"),
        ApplicationTeamMember(position=1, name="王晓燕", education="大专", major="护理", role="服务专员",
                              qualification="初级社工师", insured=True, time_on_project="每周20小时"),
    ]
    app.budget_lines = _budget(call, idea)
    extra = {}
    for f in call.fields:
        if f.kind == FieldKind.CHOICE and f.choices:
            extra[str(f.id)] = f.choices[-1] if "是否" in f.label else f.choices[0]
        elif f.kind in (FieldKind.TEXT, FieldKind.TEXTAREA):
            extra[str(f.id)] = app.service_communities if f.kind == FieldKind.TEXT else "引入低龄老人互助与积分激励。"
    app.extra_values = extra
    app.bank_account_name = org.name
    app.bank_name = "中国银行洛阳分行营业部"
    app.bank_account_number = f"2465{org.id:04d}{(org.id * 7919) % 100000000:08d}"
    app.raw_inputs = {}
    recompute_totals(app)


def _stamp(app: Application, when: datetime) -> None:
    """Date the status change just written (demo data looks as if made over weeks)."""
    row = db.session.scalars(
        select(StatusHistory)
        .where(StatusHistory.object_type == "Application", StatusHistory.object_id == app.id)
        .order_by(StatusHistory.id.desc())
        .limit(1)
    ).first()
    if row is not None:
        row.at = when


def _submit(app: Application, member, when: datetime, target=S.SUBMITTED) -> ApplicationVersion:
    if app.number is None:
        app.number = allocate_number(app.call)
    if app.submitted_at is None:
        app.submitted_at = when
    app.last_submitted_at = when
    transition(app, target, by=member, note=f"申报编号 {app.number}")
    _stamp(app, when)
    version = ApplicationVersion(application=app, number=len(app.versions) + 1, status=target, data=app.snapshot(),
                                 submitted_at=when, submitted_by_id=getattr(member, "id", None))
    db.session.add(version)
    db.session.flush()
    start_pdf(version, by=member)
    verb = "重新提交" if version.number > 1 else "提交"
    _tell(app, f"申报书已{verb}：{app.number}", f"{app.quoted_title}已{verb}，等待资格审查。", when)
    return version


def _tell(app: Application, title: str, body: str, when: datetime) -> None:
    """In-app notifications for the organisation's members, dated like the event."""
    members = db.session.scalars(select(User).where(User.org_id == app.org_id)).all()
    for n in notify_many(members, title, body, f"/applications/{app.id}"):
        n.created_at = when


def seed_applications(calls: list[Call], orgs: list[Organization], today: date) -> list[Application]:
    """Applications in every state (draft … passed, rejected, withdrawn); the caller commits."""
    now = utcnow()
    verified = [o for o in orgs if o.status == Verification.VERIFIED] or list(orgs)
    if not calls or not verified:
        return []
    picked = _pick_calls(calls, now)
    staff = db.session.scalars(select(User).where(User.role == Role.STAFF, User.district_id.is_(None))).first()
    out: list[Application] = []
    for n, (status, call_key, org_index, idea_index) in enumerate(PLAN):
        call = picked[call_key]
        org = verified[org_index % len(verified)]
        if call.district_orgs_only and call.district_id != org.district_id:
            call = picked["open"]
        member = db.session.scalars(select(User).where(User.org_id == org.id).order_by(User.id)).first()
        idea = IDEAS[idea_index % len(IDEAS)]
        submitted_on = min(call.closes_at - timedelta(hours=30 + n), now - timedelta(hours=2 + n))
        app = Application(org=org, call=call, created_by_id=getattr(member, "id", None), status=S.DRAFT)
        db.session.add(app)
        _fill(app, idea, call, org, start=date(call.year, 7, 1) if call.year >= today.year else date(call.year, 3, 1))
        app.last_saved_at = submitted_on - timedelta(days=1)
        db.session.flush()
        app.created_at = submitted_on - timedelta(days=3)
        if status == S.DRAFT:
            app.title = app.title if n == 0 else ""
            app.budget_lines = app.budget_lines[:2]
            recompute_totals(app)
            app.last_saved_at = now - timedelta(minutes=25)
            out.append(app)
            continue
        _submit(app, member, submitted_on)
        decided = submitted_on + timedelta(days=2)
        if status == S.WITHDRAWN:
            app.withdrawn_at = submitted_on + timedelta(hours=20)
            transition(app, S.WITHDRAWN, by=member, note="组织主动撤回")
            _stamp(app, app.withdrawn_at)
        elif status in (S.RETURNED, S.RESUBMITTED):
            app.return_reasons = {"budget": "“活动物资（自筹）”请补充测算依据和配套资金来源说明。",
                                  "attachments": "登记证书副本不清晰，请重新上传。"}
            app.revision_deadline = today + timedelta(days=7)
            transition(app, S.RETURNED, by=staff, note="退回修改：预算测算依据不足；附件不清晰")
            _stamp(app, decided)
            _tell(app, f"申报书被退回修改：{app.number}",
                  f"请在{app.revision_deadline.year}年{app.revision_deadline.month}月{app.revision_deadline.day}日前按审查意见修改后重新提交。",
                  decided)
            if status == S.RESUBMITTED:
                app.budget_lines[-1].note = "组织自筹8000元（理事会决议）及爱心企业捐赠"
                _submit(app, member, decided + timedelta(days=1), target=S.RESUBMITTED)
        elif status == S.PASSED:
            transition(app, S.PASSED, by=staff)
            _stamp(app, decided)
            _tell(app, f"资格审查通过：{app.number}", f"{app.quoted_title}已通过资格审查，等待专家评审。", decided)
        elif status == S.REJECTED:
            transition(app, S.REJECTED, by=staff, note="不符合申报条件：项目内容与本批次资助方向不符")
            _stamp(app, decided)
        out.append(app)
    db.session.flush()
    return out

