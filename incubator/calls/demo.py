"""Demo calls for 洛阳市 in every state (draft, published-not-yet-open, open ×2, closed, archived).

``seed_calls(today, staff_user)`` is called by the demo-data command; the caller commits.
Times are chosen relative to ``today`` (Beijing time) so the demo always shows live countdowns.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from incubator.calls.models import (
    BudgetCategory,
    Call,
    CallAttachmentType,
    CallBudgetCap,
    CallField,
    CallKind,
    FieldKind,
)
from incubator.core import audit
from incubator.db import from_local
from incubator.extensions import db
from incubator.orgs.models import OrgType, ServiceField
from incubator.regions.models import District


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """Beijing wall-clock time → naive UTC, as stored."""
    return from_local(datetime.combine(day, time(hour, minute)))


MICRO_VENTURE_NOTICE = """各县（市、区）民政局，各社会组织：

为深入贯彻落实党的二十大精神，进一步激发社会组织活力，引导社会组织在养老服务、儿童关爱、助残帮扶、社区治理等领域发挥积极作用，经研究，决定举办{year}年洛阳市公益微创投大赛。现将有关事项通知如下：

一、资助方向
（一）为老服务：居家社区养老、失能失智老人照护者支持、老年人精神慰藉等；
（二）儿童青少年服务：困境儿童关爱、留守儿童陪伴、青少年心理健康等；
（三）助残服务：残疾人康复辅助、就业支持、家庭喘息服务等；
（四）社区治理：社区议事协商、邻里互助、志愿服务体系建设等。

二、资助标准
本次大赛资金总额200万元，单个项目资助金额3万元至10万元。资助资金不超过项目总预算的60%，其余部分由申报组织自筹配套。人员及志愿者补贴不超过项目预算总额的30%，管理费不超过10%。

三、申报条件
（一）在洛阳市各级民政部门登记或备案，并已在本平台完成认证；
（二）成立满1年，已按规定报送上一年度年报且结论为合格或基本合格；
（三）未被列入活动异常名录或严重违法失信名单，不在禁入期内；
（四）每个组织最多申报2个项目。

四、申报方式
申报组织登录“洛阳市社会组织孵化与资助管理平台”，在线填写申报书并上传附件，提交后下载PDF申报书，加盖公章后扫描上传。逾期不予受理。

五、评审程序
资格审查—专家评审—路演答辩—结果公示（5个工作日）—签订资助协议。

联系人：王老师，联系电话：0379-63210000。

洛阳市民政局
{year}年{month}月{day}日"""

PURCHASE_NOTICE = """区内各社会组织：

为推进政府购买服务改革，提升社区居家养老服务质量，根据《政府购买服务管理办法》（财政部令第102号），洛龙区民政局拟向社会组织购买“社区老年人助餐助浴服务”等项目。现将有关事项通知如下：

一、购买内容
（一）社区老年人助餐服务：覆盖辖区内不少于6个社区，年服务不少于12000人次；
（二）失能老人助浴上门服务：年服务不少于800人次；
（三）社区养老服务站运营：每周开放不少于5天。

二、承接主体条件
（一）注册地在洛龙区的社会组织；
（二）具有独立承担民事责任的能力，治理结构健全、财务制度规范；
（三）近三年内无重大违法记录，未被列入失信名单；
（四）成立满2年。

三、资金安排
项目预算总额80万元，单个项目不超过40万元，按合同约定分期拨付。

四、申报时间及方式
请在申报截止前登录平台在线申报，并提交服务方案与报价。

洛阳市洛龙区民政局
{year}年{month}月{day}日"""

CHILDREN_NOTICE = """全市各社会组织：

为加强困境儿童关爱保护工作，根据《政府购买服务管理办法》（财政部令第102号）和《关于进一步健全农村留守儿童和困境儿童关爱服务体系的意见》，洛阳市民政局拟向社会力量购买困境儿童关爱服务。现将有关事项通知如下：

一、购买内容
（一）困境儿童个案管理：建立一人一档，每名儿童每季度走访不少于1次；
（二）儿童之家活动：每个服务点每月开展主题活动不少于4次；
（三）监护人能力提升：开展家庭教育指导、亲职教育培训。

二、承接主体条件
（一）在洛阳市登记的社会服务机构或基金会，成立满2年；
（二）具有独立承担民事责任的能力，治理结构健全、财务制度规范；
（三）近三年内无重大违法记录，未被列入失信名单；
（四）有专职社会工作者不少于3名。

三、资金安排
项目预算总额120万元，分4个标段，单个项目10万元至30万元。

四、申报时间及方式
申报开始后，请登录平台在线申报，并提交服务方案与报价。

洛阳市民政局
{year}年{month}月{day}日"""

INCUBATION_NOTICE = """各有意入驻的社会组织及公益团队：

洛阳市社会组织孵化基地现面向全市招募新一期入驻机构，为初创期社会组织提供办公场地、能力建设培训、导师辅导、注册协助、财务托管及资源对接等服务，孵化期一般为12个月。

一、招募对象
已登记、备案或正在筹备登记的社区社会组织与公益团队，有稳定的核心团队和清晰的服务计划。

二、招募名额
实体入驻不超过15家，虚拟孵化若干。

三、报名方式
在线提交入驻申请表、团队介绍及年度服务计划。

洛阳市社会组织孵化基地
{year}年{month}月{day}日"""


def _notice(template: str, day: date, year: int | None = None) -> str:
    """The notice text, signed on ``day``, about the programme of ``year`` (default: day's year)."""
    text = template.format(year=year or day.year, month=day.month, day=day.day)
    if year and year != day.year:  # the signature line carries the signing day's own year
        text = text.rsplit("\n", 1)[0] + f"\n{day.year}年{day.month}月{day.day}日"
    return text


def seed_calls(today: date, staff_user) -> list[Call]:
    """Six calls covering every status; returns them in the order: draft, upcoming, open city,
    open district, closed, archived. The caller commits."""
    district = db.session.scalar(db.select(District).where(District.code == "410311"))  # 洛龙区
    if district is None:
        district = db.session.scalar(db.select(District).order_by(District.code))
    year = today.year
    calls: list[Call] = []

    def add(call: Call) -> Call:
        call.created_by_id = getattr(staff_user, "id", None)
        db.session.add(call)
        db.session.flush()
        audit.record("call.create", call, after={"title": call.title, "demo": True}, actor=staff_user)
        if call.published_at is not None:
            audit.record("call.publish", call, after={"published_at": call.published_at}, actor=staff_user)
        if call.archived_at is not None:
            audit.record("call.archive", call, after={"archived_at": call.archived_at}, actor=staff_user)
        calls.append(call)
        return call

    # 1. Draft: next year's incubation intake, still being written.
    add(Call(
        kind=CallKind.INCUBATION, year=year + 1, title=f"{year + 1}年洛阳市社会组织孵化基地入驻招募通知",
        notice=_notice(INCUBATION_NOTICE, today, year + 1), district_id=None,
        opens_at=_at(today + timedelta(days=40), 9), closes_at=_at(today + timedelta(days=70), 17, 30),
        fund_pool=Decimal("300000.00"), grant_min=Decimal("0.00"), grant_max=Decimal("20000.00"),
        max_grant_share=Decimal("100"), max_applications_per_org=1,
        allowed_org_types=[], min_years_since_founding=0, require_annual_report_pass=False,
        themes=[ServiceField.COMMUNITY_GOVERNANCE.value, ServiceField.OTHER.value],
    ))

    # 2. Published, opens in 5 days: a city purchase-of-service call.
    upcoming = add(Call(
        kind=CallKind.PURCHASE, year=year, title=f"{year}年洛阳市困境儿童关爱服务政府购买服务项目申报通知",
        notice=_notice(CHILDREN_NOTICE, today - timedelta(days=1), year),
        district_id=None,
        published_at=_at(today - timedelta(days=1), 10),
        opens_at=_at(today + timedelta(days=5), 9), closes_at=_at(today + timedelta(days=35), 17, 30),
        fund_pool=Decimal("1200000.00"), grant_min=Decimal("100000.00"), grant_max=Decimal("300000.00"),
        max_grant_share=Decimal("100"), max_applications_per_org=1,
        allowed_org_types=[OrgType.SOCIAL_SERVICE_ORG.value, OrgType.FOUNDATION.value],
        min_years_since_founding=2, require_annual_report_pass=True,
        themes=[ServiceField.YOUTH.value, ServiceField.RELIEF.value],
    ))
    upcoming.attachment_types = [
        CallAttachmentType(position=0, name="服务方案及报价", required=True, allowed_extensions=["pdf", "docx"]),
    ]

    # 3. Open, city-wide 公益微创投 with caps, extra fields and attachment types.
    micro = add(Call(
        kind=CallKind.MICRO_VENTURE, year=year, title=f"{year}年洛阳市公益微创投大赛项目申报通知",
        notice=_notice(MICRO_VENTURE_NOTICE, today - timedelta(days=10), year), district_id=None,
        published_at=_at(today - timedelta(days=10), 9),
        opens_at=_at(today - timedelta(days=7), 9), closes_at=_at(today + timedelta(days=12), 17, 30),
        fund_pool=Decimal("2000000.00"), grant_min=Decimal("30000.00"), grant_max=Decimal("100000.00"),
        max_grant_share=Decimal("60"), max_applications_per_org=2,
        allowed_org_types=[], min_years_since_founding=1, require_annual_report_pass=True,
        grade_preference_note="3A及以上等级的组织同等条件下优先",
        themes=[ServiceField.ELDERLY.value, ServiceField.YOUTH.value, ServiceField.DISABILITY.value,
                ServiceField.COMMUNITY_GOVERNANCE.value],
    ))
    micro.budget_caps = [
        CallBudgetCap(category=BudgetCategory.PERSONNEL, max_share=Decimal("30")),
        CallBudgetCap(category=BudgetCategory.MANAGEMENT, max_share=Decimal("10")),
        CallBudgetCap(category=BudgetCategory.PUBLICITY, max_share=Decimal("5")),
    ]
    micro.fields = [
        CallField(position=0, label="项目实施社区", kind=FieldKind.TEXT, required=True,
                  help_text="填写项目落地的街道和社区，如“关林街道康城社区”"),
        CallField(position=1, label="服务对象类别", kind=FieldKind.CHOICE, required=True,
                  choices=["老年人", "儿童青少年", "残疾人", "困难家庭", "社区居民"]),
        CallField(position=2, label="是否曾获公益创投资助", kind=FieldKind.CHOICE, required=True, choices=["是", "否"]),
        CallField(position=3, label="项目创新点", kind=FieldKind.TEXTAREA, required=False,
                  help_text="与以往同类项目相比有何不同，300字以内"),
        CallField(position=4, label="社区支持函", kind=FieldKind.FILE, required=False,
                  help_text="需求方（社区居委会）出具并盖章"),
    ]
    micro.attachment_types = [
        CallAttachmentType(position=0, name="社会组织登记证书（或备案证明）副本", required=True, allowed_extensions=["pdf", "jpg", "png"]),
        CallAttachmentType(position=1, name="上一年度年报（年检）结论", required=True, allowed_extensions=["pdf", "jpg", "png"]),
        CallAttachmentType(position=2, name="项目预算明细表", required=True, allowed_extensions=["xlsx", "pdf"]),
        CallAttachmentType(position=3, name="以往项目成果材料", required=False, allowed_extensions=["pdf", "docx", "jpg", "png"]),
    ]

    # 4. Open, a district's purchase of service, only for organisations of that district.
    district_call = add(Call(
        kind=CallKind.PURCHASE, year=year, title=f"{year}年{district.name}社区居家养老服务政府购买服务项目申报通知",
        notice=_notice(PURCHASE_NOTICE, today - timedelta(days=3), year).replace("洛龙区", district.name),
        district_id=district.id,
        published_at=_at(today - timedelta(days=3), 15),
        opens_at=_at(today - timedelta(days=2), 9), closes_at=_at(today + timedelta(days=3), 17, 0),
        fund_pool=Decimal("800000.00"), grant_min=Decimal("50000.00"), grant_max=Decimal("400000.00"),
        max_grant_share=Decimal("100"), max_applications_per_org=1,
        allowed_org_types=[OrgType.SOCIAL_SERVICE_ORG.value, OrgType.SOCIAL_GROUP.value],
        min_years_since_founding=2, require_annual_report_pass=True, district_orgs_only=True,
        themes=[ServiceField.ELDERLY.value],
    ))
    district_call.budget_caps = [CallBudgetCap(category=BudgetCategory.PERSONNEL, max_share=Decimal("50"))]
    district_call.attachment_types = [
        CallAttachmentType(position=0, name="服务方案", required=True, allowed_extensions=["pdf", "docx"]),
        CallAttachmentType(position=1, name="报价单（加盖公章）", required=True, allowed_extensions=["pdf"]),
    ]

    # 5. Closed: this spring's micro-venture round, screening under way.
    add(Call(
        kind=CallKind.MICRO_VENTURE, year=year, title=f"{year}年洛阳市第一批社区公益微创投项目申报通知",
        notice=_notice(MICRO_VENTURE_NOTICE, today - timedelta(days=80), year), district_id=None,
        published_at=_at(today - timedelta(days=80), 9),
        opens_at=_at(today - timedelta(days=75), 9), closes_at=_at(today - timedelta(days=45), 17, 30),
        fund_pool=Decimal("1500000.00"), grant_min=Decimal("20000.00"), grant_max=Decimal("80000.00"),
        max_grant_share=Decimal("60"), max_applications_per_org=2,
        min_years_since_founding=1, require_annual_report_pass=True,
        themes=[ServiceField.ELDERLY.value, ServiceField.CHILDCARE.value],
        budget_caps=[CallBudgetCap(category=BudgetCategory.PERSONNEL, max_share=Decimal("30")),
                     CallBudgetCap(category=BudgetCategory.MANAGEMENT, max_share=Decimal("10"))],
    ))

    # 6. Archived: last year's round.
    last = today.replace(year=today.year - 1) if not (today.month == 2 and today.day == 29) else today - timedelta(days=365)
    add(Call(
        kind=CallKind.MICRO_VENTURE, year=year - 1, title=f"{year - 1}年洛阳市公益微创投大赛项目申报通知",
        notice=_notice(MICRO_VENTURE_NOTICE, last - timedelta(days=30), year - 1), district_id=None,
        published_at=_at(last - timedelta(days=30), 9),
        opens_at=_at(last - timedelta(days=25), 9), closes_at=_at(last + timedelta(days=5), 17, 30),
        archived_at=_at(today - timedelta(days=60), 10),
        fund_pool=Decimal("1800000.00"), grant_min=Decimal("30000.00"), grant_max=Decimal("100000.00"),
        max_grant_share=Decimal("60"), max_applications_per_org=2,
        min_years_since_founding=1, require_annual_report_pass=True,
        themes=[ServiceField.ELDERLY.value, ServiceField.YOUTH.value],
    ))
    db.session.flush()
    return calls
