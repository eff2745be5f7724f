"""Demo data: a believable 洛阳市 with 30 organisations in every state and one account per role.

`flask --app incubator demo-data` fills an EMPTY database and prints one line per demo account:
``role<TAB>login<TAB>password`` plus ``<TAB>TOTP secret`` for two-factor roles.
The passwords and TOTP secrets are fixed so the README can list them; they are for demos only.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from incubator.accounts.models import Role, User
from incubator.core import states
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
from incubator.orgs.uscc import make_code
from incubator.regions.models import District


@dataclass(frozen=True)
class DemoAccount:
    key: str
    role: Role
    login: str
    name: str
    password: str
    totp_secret: str | None = None
    district_code: str | None = None
    org_index: int | None = None  # applicants: which demo organisation they belong to
    mobile: str | None = None


DEMO_ACCOUNTS = [
    DemoAccount("admin", Role.ADMIN, "admin@demo.ly.gov.cn", "系统管理员", "Luoyang-Admin-2026",
                "I3RHBBRJW4OMWF6R2AECTJOIT5CLXNNN"),
    DemoAccount("staff_city", Role.STAFF, "shiji@demo.ly.gov.cn", "王民政（市局）", "Luoyang-Staff-2026",
                "7Q5DP2U3FY77OYZL5RZF6JBCYAEBYBW4"),
    DemoAccount("staff_district", Role.STAFF, "luolong@demo.ly.gov.cn", "赵科长（洛龙区）", "Luolong-Staff-2026",
                "5GXSA3GR6CD6AX2J2VLQ5HRXVJS7KVVF", district_code="410311"),
    DemoAccount("finance", Role.FINANCE, "caiwu@demo.ly.gov.cn", "钱会计", "Luoyang-Finance-2026",
                "MZXW6YTBOI4DGMJQGEZDGNBVGY3TQOJQ"),
    DemoAccount("evaluator", Role.EVALUATOR, "pinggu@demo.ly.gov.cn", "孙评估（第三方）", "pinggu-2026"),
    DemoAccount("expert", Role.EXPERT, "zhuanjia@demo.ly.gov.cn", "李教授", "zhuanjia-2026"),
    DemoAccount("applicant", Role.APPLICANT, "yangguang@demo.org.cn", "周主任（阳光社工）", "shegong-2026",
                org_index=0, mobile="13903790001"),
    DemoAccount("applicant_pending", Role.APPLICANT, "xinlian@demo.org.cn", "吴理事长（待认证组织）", "xinzuzhi-2026",
                org_index=1),
    DemoAccount("applicant_exited", Role.APPLICANT, "xiyanghong@demo.org.cn", "钱主任（夕阳红）", "xiyanghong-2026",
                org_index=2),
]

# (name, type, district code, fields, verification, scenario)
# Scenarios cover every state the registry and the eligibility service know.
ORGS: list[tuple[str, OrgType, str, list[ServiceField], Verification, str]] = [
    ("洛阳市洛龙区阳光社会工作服务中心", OrgType.SOCIAL_SERVICE_ORG, "410311", [ServiceField.YOUTH, ServiceField.COMMUNITY_GOVERNANCE], Verification.VERIFIED, "grade5"),
    ("洛阳市洛龙区新联邻里互助服务中心", OrgType.SOCIAL_SERVICE_ORG, "410311", [ServiceField.ELDERLY], Verification.PENDING, "new"),
    ("洛阳市老城区夕阳红居家养老服务中心", OrgType.SOCIAL_SERVICE_ORG, "410302", [ServiceField.ELDERLY, ServiceField.HEALTH], Verification.VERIFIED, "grade4"),
    ("洛阳市西工区春苗青少年发展中心", OrgType.SOCIAL_SERVICE_ORG, "410303", [ServiceField.YOUTH], Verification.VERIFIED, "grade3"),
    ("洛阳市涧西区启明助残服务中心", OrgType.SOCIAL_SERVICE_ORG, "410305", [ServiceField.DISABILITY], Verification.VERIFIED, "abnormal"),
    ("洛阳市瀍河回族区和美社区发展协会", OrgType.SOCIAL_GROUP, "410304", [ServiceField.COMMUNITY_GOVERNANCE], Verification.VERIFIED, "clean"),
    ("洛阳市慈善救助基金会", OrgType.FOUNDATION, "410311", [ServiceField.RELIEF, ServiceField.HEALTH], Verification.VERIFIED, "grade5"),
    ("洛阳市偃师区乡村振兴志愿者协会", OrgType.SOCIAL_GROUP, "410307", [ServiceField.EMPLOYMENT, ServiceField.OTHER], Verification.VERIFIED, "serious"),
    ("洛阳市孟津区绿水青山环保促进会", OrgType.SOCIAL_GROUP, "410308", [ServiceField.ENVIRONMENT], Verification.VERIFIED, "debarred"),
    ("洛阳市洛龙区小蜗牛托育服务中心", OrgType.SOCIAL_SERVICE_ORG, "410311", [ServiceField.CHILDCARE], Verification.VERIFIED, "report_fail"),
    ("洛阳市西工区彩虹心理健康服务中心", OrgType.SOCIAL_SERVICE_ORG, "410303", [ServiceField.HEALTH], Verification.REJECTED, "rejected"),
    ("洛阳市老城区牡丹文化传承协会", OrgType.SOCIAL_GROUP, "410302", [ServiceField.CULTURE_SPORTS], Verification.VERIFIED, "rating_expired"),
    ("洛阳市涧西区工匠就业服务中心", OrgType.SOCIAL_SERVICE_ORG, "410305", [ServiceField.EMPLOYMENT], Verification.VERIFIED, "abnormal_removed"),
    ("洛阳市洛龙区康乐助老服务中心", OrgType.SOCIAL_SERVICE_ORG, "410311", [ServiceField.ELDERLY], Verification.PENDING, "new"),
    ("洛阳市瀍河回族区邻里守望志愿服务队", OrgType.FILED_COMMUNITY_ORG, "410304", [ServiceField.COMMUNITY_GOVERNANCE], Verification.VERIFIED, "filed"),
    ("洛阳市西工区书香读书会", OrgType.FILED_COMMUNITY_ORG, "410303", [ServiceField.CULTURE_SPORTS], Verification.PENDING, "filed"),
    ("洛阳市老城区银龄互助社", OrgType.FILED_COMMUNITY_ORG, "410302", [ServiceField.ELDERLY], Verification.VERIFIED, "filed"),
    ("洛阳市涧西区爱心妈妈志愿服务队", OrgType.FILED_COMMUNITY_ORG, "410305", [ServiceField.CHILDCARE, ServiceField.YOUTH], Verification.REJECTED, "filed"),
    ("洛阳市洛龙区智慧社区治理研究中心", OrgType.SOCIAL_SERVICE_ORG, "410311", [ServiceField.COMMUNITY_GOVERNANCE], Verification.VERIFIED, "grade4"),
    ("洛阳市偃师区留守儿童关爱中心", OrgType.SOCIAL_SERVICE_ORG, "410307", [ServiceField.YOUTH, ServiceField.RELIEF], Verification.VERIFIED, "grade3"),
    ("洛阳市孟津区健康乡村服务中心", OrgType.SOCIAL_SERVICE_ORG, "410308", [ServiceField.HEALTH], Verification.PENDING, "new"),
    ("洛阳市西工区残疾人康复协会", OrgType.SOCIAL_GROUP, "410303", [ServiceField.DISABILITY], Verification.VERIFIED, "clean"),
    ("洛阳市老城区古城社区营造中心", OrgType.SOCIAL_SERVICE_ORG, "410302", [ServiceField.COMMUNITY_GOVERNANCE, ServiceField.CULTURE_SPORTS], Verification.VERIFIED, "clean"),
    ("洛阳市洛龙区青年创业就业促进会", OrgType.SOCIAL_GROUP, "410311", [ServiceField.EMPLOYMENT], Verification.VERIFIED, "grade3"),
    ("洛阳市涧西区乐龄学堂服务中心", OrgType.SOCIAL_SERVICE_ORG, "410305", [ServiceField.ELDERLY, ServiceField.CULTURE_SPORTS], Verification.VERIFIED, "clean"),
    ("洛阳市瀍河回族区民族团结促进会", OrgType.SOCIAL_GROUP, "410304", [ServiceField.OTHER], Verification.REJECTED, "rejected"),
    ("洛阳市教育发展基金会", OrgType.FOUNDATION, "410303", [ServiceField.YOUTH], Verification.VERIFIED, "grade4"),
    ("洛阳市洛龙区星星之家孤独症服务中心", OrgType.SOCIAL_SERVICE_ORG, "410311", [ServiceField.DISABILITY, ServiceField.CHILDCARE], Verification.VERIFIED, "clean"),
    ("洛阳市偃师区红白理事会", OrgType.SOCIAL_GROUP, "410307", [ServiceField.COMMUNITY_GOVERNANCE], Verification.PENDING, "new"),
    ("洛阳市孟津区黄河生态保护志愿者协会", OrgType.SOCIAL_GROUP, "410308", [ServiceField.ENVIRONMENT], Verification.VERIFIED, "grade3"),
]

ORG_CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _org_code(n: int) -> str:
    """A 9-character GB 11714 organisation code with a correct check character."""
    body = f"MJ{n:06d}"
    total = sum(ORG_CODE_CHARS.index(ch) * w for ch, w in zip(body, [3, 7, 9, 10, 5, 8, 4, 2]))
    c = 11 - total % 11
    return body + ("0" if c == 11 else "X" if c == 10 else str(c))


class DatabaseNotEmpty(RuntimeError):
    pass


def load_demo_data(today: date | None = None) -> list[DemoAccount]:
    """Fill an empty database; the caller commits."""
    from incubator.accounts.passwords import hash_password
    from incubator.regions.seed import seed_luoyang

    if db.session.scalar(db.select(db.func.count()).select_from(User)):
        raise DatabaseNotEmpty("数据库中已有用户，演示数据只能载入空数据库")
    today = today or date.today()
    rnd = random.Random(20261201)
    seed_luoyang()
    districts = {d.code: d for d in db.session.scalars(db.select(District))}
    admin = _make_accounts_first(hash_password, districts)
    staff = next(u for u in admin if u.role == Role.STAFF and u.district_id is None)

    orgs: list[Organization] = []
    for i, (name, org_type, dcode, fields, status, scenario) in enumerate(ORGS):
        district = districts[dcode]
        street = district.streets[i % len(district.streets)] if district.streets else None
        community = street.communities[i % len(street.communities)] if street and street.communities else None
        category = {"social_group": "1", "social_service_org": "2", "foundation": "3"}.get(org_type.value)
        founded = date(2008 + i % 15, 1 + i % 12, 1 + i % 27)
        org = Organization(
            name=name,
            org_type=org_type,
            uscc=make_code("5" + category, dcode, _org_code(1000 + i)) if category else None,
            filing_number=f"LY{dcode}BA{2020 + i % 5}{i:03d}" if not category else None,
            district=district,
            street=street,
            community=community,
            address=f"{district.name}{street.name if street else ''}{rnd.randint(1, 300)}号",
            founded_on=founded,
            registration_authority=f"洛阳市{district.name}民政局" if category else f"{street.name if street else district.name}街道办事处",
            legal_rep=rnd.choice(["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强"]),
            contact_name=rnd.choice(["周婷", "吴刚", "郑丽", "孙浩", "马超", "朱琳"]),
            contact_phone=f"139{rnd.randint(10000000, 99999999)}",
            contact_email=f"contact{i}@demo.org.cn",
            staff_count=(staff_count := rnd.randint(3, 40)),
            social_worker_count=rnd.randint(0, staff_count),
            has_party_org=rnd.random() < 0.5,
            intro=f"{name}成立于{founded.year}年，立足社区，开展{'、'.join(f.label for f in fields)}等服务。",
            status=Verification.PENDING,
        )
        org.field_rows = [OrgField(field=f) for f in fields]
        if org_type == OrgType.FILED_COMMUNITY_ORG:
            org.host_org = orgs[0] if orgs else None
        db.session.add(org)
        db.session.flush()
        if status != Verification.PENDING:
            states.transition(org, status, by=staff, note="材料齐全，准予认证" if status == Verification.VERIFIED else "登记证书扫描件不清晰，请重新上传")
            if status == Verification.REJECTED:
                org.rejection_reason = "登记证书扫描件不清晰，请重新上传"
        _scenario(org, scenario, today, staff)
        orgs.append(org)

    accounts = _attach_applicants(hash_password, orgs)
    db.session.flush()

    from incubator.applications.demo import seed_applications
    from incubator.calls.demo import seed_calls

    calls = seed_calls(today, staff)
    seed_applications(calls, orgs, today)
    db.session.flush()
    from incubator.pools.demo import seed_experts

    seed_experts(today)
    db.session.flush()
    from incubator.review.demo import seed_review

    seed_review(today)
    db.session.flush()
    _seed_review_results(today, staff)
    db.session.flush()
    _seed_projects(today, staff, admin)
    return accounts


def _seed_review_results(today: date, staff: User) -> None:
    """Ranking, roadshow and 公示 (incubator.publicity.demo), in a savepoint: if it fails, the rest of the
    demo stays and the failure is logged."""
    import logging

    from incubator.publicity.demo import seed_review_results

    try:
        with db.session.begin_nested():
            seed_review_results(today, staff)
    except Exception:  # noqa: BLE001 - guarded: the demo without results is still a demo
        logging.getLogger(__name__).exception("demo: ranking, roadshow and 公示 data were skipped")


def _seed_projects(today: date, staff: User, users: list[User]) -> None:
    """Funded projects (incubator/projects and its areas), in a savepoint like the results above:
    "grant" (阳光) runs — contract in force, budget and expenses, first tranche paid, reports, a mid-term
    合格 that opens the second tranche; "grant_2" (夕阳红) failed its mid-term and exited with a refund due
    and a 3-year debarment; "purchase" has its contract generated and waits for the supplier's signature."""
    import logging

    try:
        with db.session.begin_nested():
            _run_projects(today, staff, users)
    except Exception:  # noqa: BLE001 - guarded: the demo without projects is still a demo
        logging.getLogger(__name__).exception("demo: funded projects were skipped")


def _member(org: Organization) -> User | None:
    return db.session.scalar(db.select(User).where(User.org_id == org.id, User.active.is_(True)).order_by(User.id))


def _pay_first_tranche(project, *, org_user: User, staff: User, finance: User, today: date) -> None:
    from incubator.projects import services as project_services

    first = project.tranches[0]
    request = project_services.request_payment(first, by=org_user)
    project_services.approve_by_staff(request, by=staff)
    project_services.approve_by_finance(request, by=finance, paid_on=today, voucher_no=f"FK-{project.number}-1")


def _run_projects(today: date, staff: User, users: list[User]) -> None:
    from incubator.projects import demo as projects_demo
    from incubator.projects.budgets import demo as budgets_demo
    from incubator.projects.contracts import demo as contracts_demo
    from incubator.projects.evaluations import demo as evaluations_demo
    from incubator.projects.exits import demo as exits_demo
    from incubator.projects.reports import demo as reports_demo

    finance = next(u for u in users if u.role == Role.FINANCE)
    evaluator = next(u for u in users if u.role == Role.EVALUATOR)
    made = projects_demo.seed_projects(today, staff)
    for name in ("grant", "grant_2"):
        project = made.get(name)
        org_user = _member(project.org) if project is not None else None
        if org_user is None:
            continue
        contracts_demo.seed(project, staff=staff, org_user=org_user)
        budgets_demo.seed(project, staff=staff, org_user=org_user)
        _pay_first_tranche(project, org_user=org_user, staff=staff, finance=finance, today=today)
        if name == "grant":
            reports_demo.seed(project, staff=staff, org_user=org_user, today=today)
            evaluations_demo.seed(project, staff=staff, evaluator=evaluator)
        else:  # a real 不合格 mid-term (its tranche stops), then the exit
            evaluations_demo.seed(project, staff=staff, evaluator=evaluator, share=Decimal("0.5"))
            exits_demo.seed_failed(project, staff=staff, finance=finance, partial_refund=Decimal("5000.00"))
    if "purchase" in made:
        from incubator.projects.contracts import services as contracts_services

        contracts_services.generate(made["purchase"], by=staff)
    db.session.flush()


def _make_accounts_first(hash_password, districts) -> list[User]:
    users = []
    for acct in DEMO_ACCOUNTS:
        if acct.role == Role.APPLICANT:
            continue
        users.append(_user(acct, hash_password, districts.get(acct.district_code)))
    db.session.flush()
    return users


def _attach_applicants(hash_password, orgs) -> list[DemoAccount]:
    for acct in DEMO_ACCOUNTS:
        if acct.role == Role.APPLICANT:
            user = _user(acct, hash_password, None)
            user.org = orgs[acct.org_index]
            user.is_org_admin = True
    return DEMO_ACCOUNTS


def _user(acct: DemoAccount, hash_password, district) -> User:
    user = User(
        email=acct.login,
        mobile=acct.mobile,
        name=acct.name,
        password_hash=hash_password(acct.password),
        role=acct.role,
        district=district,
        active=True,
        totp_secret=acct.totp_secret,
        totp_enabled=acct.totp_secret is not None,
    )
    db.session.add(user)
    return user


def _scenario(org: Organization, scenario: str, today: date, staff: User) -> None:
    last_year = today.year - 1
    if org.org_type != OrgType.FILED_COMMUNITY_ORG and org.status == Verification.VERIFIED:
        result = AnnualReportResult.FAIL if scenario == "report_fail" else AnnualReportResult.PASS
        for year in (last_year - 1, last_year):
            db.session.add(AnnualReport(org=org, year=year, result=result if year == last_year else AnnualReportResult.PASS,
                                        note="年检结论" if result == AnnualReportResult.PASS else "财务制度不健全", recorded_by_id=staff.id))
    grade = {"grade5": 5, "grade4": 4, "grade3": 3}.get(scenario)
    if grade:
        awarded = today - timedelta(days=400)
        db.session.add(Rating(org=org, grade=grade, awarded_on=awarded, expires_on=awarded.replace(year=awarded.year + 5), recorded_by_id=staff.id))
    if scenario == "rating_expired":
        awarded = date(today.year - 6, 6, 1)
        db.session.add(Rating(org=org, grade=4, awarded_on=awarded, expires_on=awarded.replace(year=awarded.year + 5), recorded_by_id=staff.id))
    if scenario == "abnormal":
        db.session.add(CreditRecord(org=org, kind=CreditKind.ABNORMAL_LIST, reason="未按规定报送年度工作报告",
                                    source="洛民社异〔2026〕3号", start_on=today - timedelta(days=60),
                                    end_on=today + timedelta(days=120), recorded_by_id=staff.id))
    if scenario == "abnormal_removed":
        db.session.add(CreditRecord(org=org, kind=CreditKind.ABNORMAL_LIST, reason="通过登记的住所无法取得联系",
                                    source="洛民社异〔2025〕11号", start_on=today - timedelta(days=300),
                                    end_on=today - timedelta(days=120), removed_on=today - timedelta(days=120),
                                    recorded_by_id=staff.id))
    if scenario == "serious":
        db.session.add(CreditRecord(org=org, kind=CreditKind.SERIOUS_LIST, reason="被列入活动异常名录满2年",
                                    source="洛民社失〔2025〕2号", start_on=today - timedelta(days=200),
                                    end_on=None, recorded_by_id=staff.id))
    if scenario == "debarred":
        db.session.add(CreditRecord(org=org, kind=CreditKind.DEBARMENT, reason="公益创投项目违反资助协议，擅自变更资金用途",
                                    source="洛民〔2025〕45号", start_on=today - timedelta(days=365),
                                    end_on=today + timedelta(days=365 * 2), recorded_by_id=staff.id))


def account_lines(accounts: list[DemoAccount]) -> list[str]:
    lines = []
    for a in accounts:
        parts = [a.role.value, a.login, a.password]
        if a.totp_secret:
            parts.append(a.totp_secret)
        lines.append("\t".join(parts))
    return lines
