"""Demo data for ranking, roadshow and 公示: ``seed_review_results(today, staff)``.

Four calls of their own, each at another stage, built through the real services (the draw with its
published seed, experts' confirmations and submitted scores, promotion, the funding list, the 公示):

* 2025年洛阳市公益微创投大赛 — written round ranked, experts rated, 公示 finished: one objection upheld
  (that grant cancelled), the other grants final (funded);
* 2026年洛阳市公益微创投大赛（第二批） — a ranked written round (the top 5 promoted) and a roadshow
  session under way: three contestants finished and scored, one on stage, one waiting; the demo expert
  (李教授) sits on the panel with one score still to give;
* 2026年洛阳市社区治理创新项目 — 公示 in progress with one objection waiting for an answer;
* 2026年洛阳市为老服务项目 — a draft funding list (proposed, amounts being set).

Applications are written like incubator.applications.demo does (its form filler and submission helper).
The caller commits; incubator.demo calls this inside a savepoint and carries on without it if it fails.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from incubator.accounts.models import Role, User
from incubator.calls.models import Call, CallKind
from incubator.core import audit
from incubator.db import from_local, utcnow
from incubator.extensions import db
from incubator.orgs.models import Organization, ServiceField, Verification

F = ServiceField


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return from_local(datetime.combine(day, time(hour, minute)))


def _ideas():
    from incubator.applications.demo import Idea

    return [
        Idea("“暖心食堂”社区老年助餐服务项目", F.ELDERLY, "社区高龄、独居及失能老人", 260,
             "辖区80岁以上老人410人，独居老人就餐不便，现有助餐点覆盖不足。",
             "建立社区老年助餐网络，解决老人“吃饭难”。", ("设立助餐点3个", "提供助餐服务15000人次", "组建送餐志愿队30人")),
        Idea("“四点半课堂”流动儿童课后服务项目", F.YOUTH, "随迁子女及双职工家庭儿童", 120,
             "城中村流动儿童放学后无人看护，学业辅导和安全教育缺位。",
             "为流动儿童提供安全、有益的课后托管与成长支持。", ("开设课后课堂200课时", "开展安全教育12场", "建立成长档案120份")),
        Idea("“心桥”精神障碍康复者社区融入项目", F.DISABILITY, "社区精神障碍康复者及家属", 70,
             "康复者出院后缺少社区支持，家属照护压力大。",
             "帮助康复者回归社区生活，减轻家庭照护负担。", ("开展康复小组活动36场", "家属喘息服务200小时", "组织社区融入活动10场")),
        Idea("“楼道微治理”老旧小区自治提升项目", F.COMMUNITY_GOVERNANCE, "老旧小区居民及楼栋长", 500,
             "老旧小区无物业管理，楼道堆物、环境脏乱等问题长期存在。",
             "以楼道为单元培育居民自治能力。", ("培育楼栋长60名", "完成楼道公约40份", "解决楼道公共问题50项")),
        Idea("“银发课堂”老年人智能技术运用培训", F.ELDERLY, "60岁以上老年人", 400,
             "老年人在就医挂号、出行、缴费等场景面临数字鸿沟。",
             "帮助老年人跨越数字鸿沟，安全使用智能技术。", ("开设培训班20期", "培训老年人400人次", "培育助老数字志愿者40名")),
        Idea("“阳光成长”困境青少年心理支持项目", F.YOUTH, "困境家庭青少年", 90,
             "困境家庭青少年心理健康问题多发，专业支持不足。",
             "为困境青少年提供心理支持和成长陪伴。", ("个案辅导60例", "开展团体辅导24场", "培训家长100人次")),
        Idea("“邻里守望”社区志愿服务体系建设", F.COMMUNITY_GOVERNANCE, "社区居民及志愿者", 300,
             "社区志愿者队伍松散，服务项目化、常态化程度低。",
             "建立社区志愿服务积分激励体系。", ("招募志愿者200名", "开发志愿服务项目10个", "累计服务时长8000小时")),
        Idea("“康乐家园”失能老人家庭照护者支持项目", F.ELDERLY, "失能、半失能老人家庭照护者", 80,
             "失能老人家庭照护者长期负担重，缺乏照护技能和喘息机会。",
             "提升家庭照护能力，缓解照护者身心压力。", ("照护技能培训16期", "喘息服务300小时", "照护者互助小组8个")),
        Idea("“绿色社区”垃圾分类与环保行动", F.ENVIRONMENT, "社区居民", 1200,
             "社区垃圾分类准确率不足40%，居民环保意识有待提高。",
             "推动居民垃圾分类习惯养成。", ("开展宣传活动30场", "培育分类督导员50名", "分类准确率提升至80%")),
        Idea("“就业启航”困难群众就业帮扶项目", F.EMPLOYMENT, "低保、低收入家庭劳动力", 150,
             "辖区困难家庭劳动力就业技能弱，就业信息获取渠道少。",
             "提升困难群众就业能力，实现稳定就业。", ("技能培训10期", "岗位推介200个", "帮助就业40人")),
        Idea("“牡丹花开”社区文化队伍培育项目", F.CULTURE_SPORTS, "社区文艺爱好者", 240,
             "社区文化活动形式单一，群众文化队伍缺乏专业指导。",
             "培育社区文化骨干队伍，丰富居民精神文化生活。", ("培育文化队伍8支", "开展文化活动40场", "举办社区文化节1次")),
        Idea("“健康小屋”慢病老人健康管理项目", F.HEALTH, "患有慢性病的老年人", 300,
             "社区慢病老人多，健康管理意识和自我管理能力不足。",
             "帮助慢病老人科学管理健康。", ("建立健康档案300份", "健康讲座24场", "随访服务1200人次")),
    ]


def _call(title: str, *, year: int, closed_days_ago: int, pool: str, gmin: str, gmax: str, staff, today: date,
          archived: bool = False) -> Call:
    opens = today - timedelta(days=closed_days_ago + 40)
    call = Call(kind=CallKind.MICRO_VENTURE, year=year, title=title,
                notice=f"{title}申报通知。评审程序：资格审查—专家评审—（路演答辩）—结果公示（5个工作日）—签订资助协议。",
                district_id=None, published_at=_at(opens - timedelta(days=3), 9), opens_at=_at(opens, 9),
                closes_at=_at(today - timedelta(days=closed_days_ago), 17, 30),
                archived_at=_at(today - timedelta(days=10), 9) if archived else None,
                fund_pool=Decimal(pool), grant_min=Decimal(gmin), grant_max=Decimal(gmax), max_grant_share=Decimal("60"),
                max_applications_per_org=2, allowed_org_types=[], themes=[], created_by_id=staff.id)
    db.session.add(call)
    db.session.flush()
    audit.record("call.create", call, after={"title": call.title, "demo": True}, actor=staff)
    return call


def _applications(call: Call, orgs: list[Organization], ideas, staff, *, offset: int) -> list:
    """Submitted applications that passed screening (资格审查通过)."""
    from incubator.applications.demo import _fill, _stamp, _submit
    from incubator.applications.models import Application, ApplicationStatus
    from incubator.core.states import transition

    out = []
    when = call.closes_at - timedelta(days=3)
    for i, org in enumerate(orgs):
        member = db.session.scalars(db.select(User).where(User.org_id == org.id).order_by(User.id)).first()
        app = Application(org=org, call=call, created_by_id=getattr(member, "id", None), status=ApplicationStatus.DRAFT)
        db.session.add(app)
        _fill(app, ideas[(offset + i) % len(ideas)], call, org, start=date(call.year, 7, 1))
        app.last_saved_at = when - timedelta(days=1)
        db.session.flush()
        _submit(app, member, when - timedelta(hours=i))
        transition(app, ApplicationStatus.PASSED, by=staff, note="资格审查通过")
        _stamp(app, call.closes_at + timedelta(days=3))
        out.append(app)
    return out


def _scored_round(call: Call, apps: list, staff, *, name: str, k: int, deadline: datetime, rnd: random.Random,
                  review_date: date | None = None, base: dict | None = None, split: frozenset = frozenset()):
    """A written round through the real services: seed commitment, draw, confirmations, submitted scores,
    closed. Totals vary around each application's ``base`` quality; one application splits the panel."""
    from incubator.review import draw, services
    from incubator.review.models import Score

    r = services.create_round(call, by=staff, settings=services.RoundSettings(
        name=name, reviewers_per_application=k, max_load=8, blind=True, review_date=review_date,
        deadline=deadline, promotion_top_n=5))
    services.set_default_criteria(r, by=staff)
    services.add_entries(r, apps, by=staff)
    draw.commit_seed(r, by=staff)
    draw.run_draw(r, by=staff, check_timing=False)
    services.open_scoring(r, by=staff)
    base = base or {}
    for a in services.round_assignments(r):
        expert_user = a.expert.user
        services.confirm_no_conflict(a, by=expert_user)
        quality = base.get(a.application_id, 0.75)
        if a.application_id in split:  # the panel disagrees on this one: the ranking flags it
            quality += 0.14 if a.expert_id % 2 else -0.14
        points = {}
        for c in r.criteria:
            share = min(1.0, max(0.3, rnd.gauss(quality + (a.expert_id % 3 - 1) * 0.03, 0.06)))
            points[c.id] = int(round(c.max_points * share))
        services.save_score(a, by=expert_user, points=points, comments="方案整体可行，建议细化成效评估指标。", submit=True)
        score: Score = a.score
        score.submitted_at = deadline - timedelta(hours=rnd.randint(2, 120))
    services.close_round(r, by=staff)
    return r


def _publicity(flist, staff, *, start: date):
    from incubator.publicity import services as pub

    pub.approve(flist, by=staff)
    return pub.start_publicity(flist, by=staff, start=start, contact="洛阳市民政局社会组织管理科 0379-63210000")


def seed_review_results(today: date, staff: User) -> dict:
    """Seed the four calls (see the module docstring); returns what was made, by name."""
    from incubator.core.workdays import add_workdays
    from incubator.publicity import services as pub
    from incubator.review import ranking
    from incubator.review.ranking_models import ExpertRating

    rnd = random.Random(20261208)
    ideas = _ideas()
    orgs = list(db.session.scalars(
        db.select(Organization).where(Organization.status == Verification.VERIFIED).order_by(Organization.id)))
    if len(orgs) < 8:
        return {}
    made: dict = {}

    # 1. 2025: ranked, rated, 公示 finished (one objection upheld, the rest funded)
    c25 = _call("2025年洛阳市公益微创投大赛", year=today.year - 1, closed_days_ago=150, pool="200000.00",
                gmin="30000.00", gmax="100000.00", staff=staff, today=today, archived=True)
    apps25 = _applications(c25, orgs[:5], ideas, staff, offset=0)
    r25 = _scored_round(c25, apps25, staff, name="专家评审", k=5, deadline=_at(today - timedelta(days=120), 18), rnd=rnd,
                        base={a.id: q for a, q in zip(apps25, (0.88, 0.8, 0.74, 0.69, 0.6))})
    rows = ranking.round_ranking(r25).rows
    top = rows[:4]
    pub.propose(r25, [row.application for row in top], by=staff,
                ranks={row.application.id: (row.position, row.official) for row in top})
    l25 = pub.funding_list_for(c25)
    start25 = today - timedelta(days=100)
    p25 = _publicity(l25, staff, start=start25)
    cancelled = l25.items[3]
    obj = pub.file_objection(p25, pub.clean_objection(
        name="刘女士", phone="13803790123", email="", item_id=cancelled.id,
        content="该项目与申报单位2024年已获市级资助的项目内容基本相同，属于重复申报，请核实。"), today=start25 + timedelta(days=1))
    pub.answer_objection(obj, upheld=True, by=staff,
                         answer="经核实，该项目与2024年已资助项目服务内容、服务对象基本一致，异议成立，取消拟资助。")
    pub.finalize(p25, by=staff, today=p25.ends_on + timedelta(days=1))
    for e in {a.expert for a in r25.assignments if a.is_active}:
        db.session.add(ExpertRating(round_id=r25.id, expert_id=e.id, timeliness=rnd.choice((4, 5, 5)),
                                    quality=rnd.choice((3, 4, 5)), note="评审意见具体，按时提交", rated_by_id=staff.id))
    made["final"] = p25

    # 2. 2026 第二批: ranked written round, top 5 promoted to a roadshow under way
    c2 = _call(f"{today.year}年洛阳市公益微创投大赛（第二批）", year=today.year, closed_days_ago=30, pool="500000.00",
               gmin="30000.00", gmax="100000.00", staff=staff, today=today)
    apps2 = _applications(c2, orgs[1:8], ideas, staff, offset=3)
    r1 = _scored_round(c2, apps2, staff, name="书面评审", k=5, deadline=_at(today - timedelta(days=10), 18), rnd=rnd,
                       base={a.id: q for a, q in zip(apps2, (0.86, 0.82, 0.79, 0.77, 0.72, 0.7, 0.62))},
                       split=frozenset({apps2[4].id}))
    made["ranked_round"] = r1
    made["roadshow"] = _roadshow(c2, r1, staff, today, rnd)

    # 3. 社区治理: 公示 in progress with one objection waiting
    c3 = _call(f"{today.year}年洛阳市社区治理创新项目", year=today.year, closed_days_ago=45, pool="300000.00",
               gmin="20000.00", gmax="80000.00", staff=staff, today=today)
    apps3 = _applications(c3, orgs[2:6], ideas, staff, offset=6)
    r3 = _scored_round(c3, apps3, staff, name="专家评审", k=3, deadline=_at(today - timedelta(days=15), 18), rnd=rnd,
                       base={a.id: q for a, q in zip(apps3, (0.85, 0.8, 0.76, 0.66))})
    rows = ranking.round_ranking(r3).rows[:3]
    pub.propose(r3, [row.application for row in rows], by=staff,
                ranks={row.application.id: (row.position, row.official) for row in rows})
    l3 = pub.funding_list_for(c3)
    pub.set_amounts(l3, {l3.items[2].id: Decimal("45000.00")}, by=staff)
    try:
        start3 = add_workdays(today, -2)
        p3 = _publicity(l3, staff, start=start3)
    except Exception:  # noqa: BLE001 - a calendar year nobody has entered yet: no 公示 in progress
        p3 = None
    if p3 is not None:
        pub.file_objection(p3, pub.clean_objection(
            name="张先生", phone="0379-65432100", email="zhang.xs@example.com", item_id=l3.items[1].id,
            content="该项目申报书中所列的项目负责人已于今年调离该机构，团队情况与实际不符，请予核实。"),
            ip="127.0.0.1", today=max(start3, min(today, p3.ends_on)))
    made["publicity"] = p3

    # 4. 为老服务: a draft funding list (proposed)
    c4 = _call(f"{today.year}年洛阳市为老服务项目", year=today.year, closed_days_ago=20, pool="150000.00",
               gmin="20000.00", gmax="60000.00", staff=staff, today=today)
    apps4 = _applications(c4, orgs[4:7], ideas, staff, offset=9)
    r4 = _scored_round(c4, apps4, staff, name="专家评审", k=3, deadline=_at(today - timedelta(days=5), 18), rnd=rnd)
    rows = ranking.round_ranking(r4).rows[:2]
    pub.propose(r4, [row.application for row in rows], by=staff,
                ranks={row.application.id: (row.position, row.official) for row in rows})
    made["draft_list"] = pub.funding_list_for(c4)
    db.session.flush()
    return made


def _roadshow(call: Call, written, staff, today: date, rnd: random.Random):
    """Round 2 (路演): the top 5 promoted, a panel of 5 judges assigned every contestant by hand (conflicts
    enforced), the session live with three contestants scored."""
    from incubator.core.states import transition
    from incubator.pools.services import active_experts, expert_for_user
    from incubator.review import ranking, services
    from incubator.review.models import RoundKind, RoundStatus
    from incubator.roadshow import services as roadshow

    result = ranking.round_ranking(written)
    promoted = [row.application for row in result.rows[:5]]
    r2 = services.create_round(call, by=staff, settings=services.RoundSettings(
        name="复审路演", kind=RoundKind.ROADSHOW, reviewers_per_application=5, max_load=10, blind=False,
        review_date=today, deadline=_at(today + timedelta(days=1), 18)))
    services.set_default_criteria(r2, by=staff)
    ranking.promote(written, [a.id for a in promoted], to_round=r2, by=staff)
    transition(r2, RoundStatus.DRAWN, by=staff, note="路演评委由工作人员现场确定，手工分配（回避规则照常执行）")
    demo_user = db.session.scalar(db.select(User).where(User.role == Role.EXPERT).order_by(User.id))
    demo_expert = expert_for_user(demo_user) if demo_user is not None else None
    pool = [e for e in active_experts() if e.max_reviews_per_round >= 5]
    rnd.shuffle(pool)
    if demo_expert is not None and demo_expert in pool:
        pool.remove(demo_expert)
        pool.insert(0, demo_expert)
    conflicts = services.detect_conflicts(r2, promoted, pool)
    # the demo expert judges (recused where a conflict is found); the others have none
    judges = [e for e in pool if e is demo_expert or not any((a.id, e.id) in conflicts for a in promoted)][:5]
    for app in promoted:
        for e in judges:
            if (app.id, e.id) not in conflicts:
                services.manual_assign(r2, app, e, by=staff)
    services.open_scoring(r2, by=staff)
    s = roadshow.create_session(r2, by=staff, title=f"{call.title}复审路演", held_on=today,
                                venue="洛阳市社会组织孵化基地一楼路演厅")
    roadshow.open_session(s, by=staff)
    started = utcnow() - timedelta(minutes=70)
    quality = {0: 0.9, 1: 0.8, 2: 0.84}
    for i, c in enumerate(s.contestants[:3]):
        roadshow.mark_started(c, by=staff)
        roadshow.mark_finished(c, by=staff)
        c.started_at = started + timedelta(minutes=20 * i)
        c.finished_at = c.started_at + timedelta(minutes=15)
        scorers = judges if i < 2 else [j for j in judges if j is not demo_expert][:3]
        for e in scorers:
            item = roadshow.judge_item(s, e, c.id)
            if item.assignment is None:  # recused
                continue
            points = {cr.id: int(round(cr.max_points * min(1.0, max(0.4, rnd.gauss(quality[i], 0.07)))))
                      for cr in r2.criteria}
            roadshow.score_contestant(item, by=e.user, points=points, confirm_no_conflict=True)
    roadshow.mark_started(s.contestants[3], by=staff)
    db.session.flush()
    return s
