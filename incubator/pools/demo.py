"""Demo expert pool: 40 believable experts of 洛阳市 across fields and districts.

Professors and lecturers of the local universities, social-work supervisors, certified
accountants, lawyers, doctors, street officials, journalists; some declared relations with the demo
organisations (so the draw has conflicts to avoid), a few suspended or removed, a few unavailable
periods, and the demo expert account (zhuanjia@demo.ly.gov.cn, 李教授) linked to its record.
"""
from __future__ import annotations

import secrets
from datetime import date, timedelta

from incubator.accounts.models import Role, User
from incubator.core import states
from incubator.extensions import db
from incubator.orgs.models import Organization, ServiceField as F
from incubator.pools.models import (
    Expert,
    ExpertField,
    ExpertRelation,
    ExpertStatus,
    ExpertUnavailability,
    RelationKind as K,
)
from incubator.regions.models import District

DEMO_EXPERT_LOGIN = "zhuanjia@demo.ly.gov.cn"

# (name, title, employer, e-mail domain, district code, fields, max reviews)
EXPERTS: list[tuple[str, str, str, str, str | None, list[F], int]] = [
    ("李教授", "教授", "河南科技大学法学院（社会工作系）", "haust.edu.cn", "410311", [F.ELDERLY, F.COMMUNITY_GOVERNANCE, F.RELIEF], 12),
    ("张慧敏", "教授", "洛阳师范学院法政与公共管理学院", "lynu.edu.cn", "410311", [F.COMMUNITY_GOVERNANCE, F.YOUTH], 10),
    ("王建国", "副教授", "河南科技大学管理学院", "haust.edu.cn", "410311", [F.EMPLOYMENT, F.COMMUNITY_GOVERNANCE], 10),
    ("刘晓燕", "副教授", "洛阳理工学院人文与社会科学学院", "lit.edu.cn", "410311", [F.CHILDCARE, F.YOUTH], 8),
    ("陈立新", "讲师", "洛阳师范学院教育科学学院", "lynu.edu.cn", "410311", [F.YOUTH, F.DISABILITY], 8),
    ("赵雪梅", "高级社会工作师", "洛阳市洛龙区阳光社会工作服务中心", "ygsg.org.cn", "410311", [F.YOUTH, F.COMMUNITY_GOVERNANCE], 6),
    ("孙志强", "社会工作师（督导）", "洛阳市社会工作协会", "lysgxh.org.cn", "410303", [F.ELDERLY, F.DISABILITY, F.RELIEF], 10),
    ("周丽华", "高级社会工作师", "洛阳市涧西区乐龄学堂服务中心", "lelingxt.org.cn", "410305", [F.ELDERLY, F.CULTURE_SPORTS], 6),
    ("吴海涛", "注册会计师", "河南洛诚会计师事务所有限公司", "luocheng-cpa.com", "410303", [F.OTHER, F.RELIEF], 15),
    ("郑美玲", "注册会计师、高级会计师", "洛阳正信联合会计师事务所", "zhengxin-cpa.cn", "410302", [F.OTHER, F.EMPLOYMENT], 15),
    ("马国华", "律师（一级）", "河南九鼎律师事务所", "jiuding-law.com", "410303", [F.COMMUNITY_GOVERNANCE, F.OTHER], 10),
    ("黄晓东", "律师", "河南洛浦律师事务所", "luopu-law.cn", "410311", [F.DISABILITY, F.RELIEF], 10),
    ("林秀英", "主任医师", "洛阳市中心医院老年医学科", "lyzxyy.com", "410303", [F.HEALTH, F.ELDERLY], 8),
    ("杨帆", "副主任医师", "河南科技大学第一附属医院康复医学科", "haust.edu.cn", "410305", [F.HEALTH, F.DISABILITY], 8),
    ("何振宇", "副主任", "洛阳市洛龙区开元路街道办事处", "luolong.gov.cn", "410311", [F.COMMUNITY_GOVERNANCE], 10),
    ("罗春燕", "党工委委员", "洛阳市老城区西关街道办事处", "lycity.gov.cn", "410302", [F.COMMUNITY_GOVERNANCE, F.ELDERLY], 10),
    ("高峰", "科长", "洛阳市涧西区民政局（退休）", "163.com", "410305", [F.RELIEF, F.ELDERLY], 10),
    ("梁静", "社区党委书记", "洛阳市西工区金谷园街道七一路社区", "qq.com", "410303", [F.COMMUNITY_GOVERNANCE, F.CULTURE_SPORTS], 6),
    ("宋文博", "研究员", "洛阳市社会科学院", "lyssky.org.cn", "410303", [F.COMMUNITY_GOVERNANCE, F.CULTURE_SPORTS], 10),
    ("韩丽娟", "编审", "洛阳日报社", "lyd.com.cn", "410303", [F.CULTURE_SPORTS, F.OTHER], 8),
    ("唐伟", "高级工程师", "洛阳市生态环境局（退休）", "126.com", "410308", [F.ENVIRONMENT], 10),
    ("冯淑珍", "教授", "河南科技大学农学院", "haust.edu.cn", "410308", [F.ENVIRONMENT, F.EMPLOYMENT], 8),
    ("许光明", "高级经济师", "洛阳市人力资源和社会保障局就业服务中心", "lyrs.gov.cn", "410311", [F.EMPLOYMENT], 10),
    ("邓雅琴", "副教授", "洛阳职业技术学院", "lyvtc.edu.cn", "410307", [F.EMPLOYMENT, F.YOUTH], 8),
    ("曹德胜", "特殊教育高级教师", "洛阳市特殊教育学校", "lytj.edu.cn", "410305", [F.DISABILITY, F.YOUTH], 8),
    ("彭玉兰", "主任护师", "洛阳市妇女儿童医疗保健中心", "lyfybj.cn", "410303", [F.CHILDCARE, F.HEALTH], 8),
    ("曾凡", "社会工作师", "洛阳市偃师区留守儿童关爱中心", "lsetgh.org.cn", "410307", [F.YOUTH, F.RELIEF], 6),
    ("萧红梅", "幼儿园园长（高级教师）", "洛阳市实验幼儿园", "qq.com", "410302", [F.CHILDCARE], 8),
    ("田继红", "会长", "洛阳市慈善总会", "lycszh.org.cn", "410311", [F.RELIEF, F.ELDERLY], 10),
    ("董晨", "心理咨询师（二级）", "洛阳市心理卫生中心", "lyxlws.cn", "410305", [F.HEALTH, F.YOUTH], 8),
    ("袁立", "体育教研员", "洛阳市体育运动学校", "163.com", "410302", [F.CULTURE_SPORTS, F.YOUTH], 8),
    ("潘永", "非遗传承人", "洛阳市群众艺术馆", "lyqyg.cn", "410302", [F.CULTURE_SPORTS], 6),
    ("蒋文静", "注册会计师", "河南中天信会计师事务所洛阳分所", "ztx-cpa.com", "410311", [F.OTHER], 15),
    ("蔡明亮", "副教授", "洛阳师范学院经济与管理学院", "lynu.edu.cn", "410304", [F.EMPLOYMENT, F.OTHER], 10),
    ("贾宏", "主任", "洛阳市瀍河回族区民政局社会组织服务中心", "chanhe.gov.cn", "410304", [F.COMMUNITY_GOVERNANCE, F.OTHER], 10),
    ("丁海燕", "高级社会工作师", "洛阳市康馨养老服务集团", "kangxin-yl.com", "410303", [F.ELDERLY, F.HEALTH], 8),
    ("魏晓峰", "教授", "洛阳理工学院环境工程与化学学院", "lit.edu.cn", "410311", [F.ENVIRONMENT], 10),
    ("薛丽", "律师", "北京盈科（洛阳）律师事务所", "yingkelawyer.com", "410311", [F.CHILDCARE, F.YOUTH, F.OTHER], 10),
    ("叶建华", "主任医师", "洛阳市第三人民医院", "lysy.com", "410308", [F.HEALTH, F.ELDERLY], 8),
    ("阎秋菊", "副教授", "河南科技大学医学院（护理系）", "haust.edu.cn", "410311", [F.ELDERLY, F.HEALTH, F.DISABILITY], 8),
]

PINYIN = [
    "li.jiaoshou", "zhang.huimin", "wang.jianguo", "liu.xiaoyan", "chen.lixin", "zhao.xuemei", "sun.zhiqiang",
    "zhou.lihua", "wu.haitao", "zheng.meiling", "ma.guohua", "huang.xiaodong", "lin.xiuying", "yang.fan",
    "he.zhenyu", "luo.chunyan", "gao.feng", "liang.jing", "song.wenbo", "han.lijuan", "tang.wei", "feng.shuzhen",
    "xu.guangming", "deng.yaqin", "cao.desheng", "peng.yulan", "zeng.fan", "xiao.hongmei", "tian.jihong",
    "dong.chen", "yuan.li", "pan.yong", "jiang.wenjing", "cai.mingliang", "jia.hong", "ding.haiyan",
    "wei.xiaofeng", "xue.li", "ye.jianhua", "yan.qiuju",
]

# expert index → employer is this demo organisation (by name): employer_uscc and employer_org_id set
EMPLOYED_AT = {
    5: "洛阳市洛龙区阳光社会工作服务中心",
    7: "洛阳市涧西区乐龄学堂服务中心",
    26: "洛阳市偃师区留守儿童关爱中心",
}

# expert index → (organisation name, kind, years ago started, years ago ended or None, note)
RELATIONS: dict[int, list[tuple[str, K, int, float | None, str]]] = {
    0: [("洛阳市洛龙区阳光社会工作服务中心", K.ADVISOR, 3, None, "担任专业顾问"),
        ("洛阳市老城区夕阳红居家养老服务中心", K.JOINT_PROJECT, 2, 0.5, "合作开展“时间银行”课题")],
    1: [("洛阳市洛龙区智慧社区治理研究中心", K.DIRECTOR, 4, None, "理事")],
    3: [("洛阳市洛龙区小蜗牛托育服务中心", K.MENTORING, 1, None, "孵化期导师")],
    6: [("洛阳市涧西区启明助残服务中心", K.EMPLOYED, 8, 2, "曾任项目主管"),
        ("洛阳市社会工作协会", K.EMPLOYED, 2, None, "现任督导")],
    8: [("洛阳市慈善救助基金会", K.SUPERVISOR, 5, None, "监事")],
    10: [("洛阳市西工区春苗青少年发展中心", K.ADVISOR, 6, 4, "法律顾问（已结束）")],
    13: [("洛阳市西工区残疾人康复协会", K.DIRECTOR, 3, None, "副会长")],
    17: [("洛阳市瀍河回族区和美社区发展协会", K.RELATIVE, 5, None, "配偶任该会法定代表人")],
    28: [("洛阳市慈善救助基金会", K.CONTROLLER, 6, None, "发起人")],
    33: [("洛阳市洛龙区青年创业就业促进会", K.JOINT_PROJECT, 1, None, "共同承担市级就业帮扶项目")],
    35: [("洛阳市老城区夕阳红居家养老服务中心", K.OTHER, 2, None, "所在集团为其运营合作方")],
    38: [("洛阳市孟津区健康乡村服务中心", K.ADVISOR, 1, None, "医疗顾问")],
}

# expert index → (status, reason)
STATUSES = {
    16: (ExpertStatus.SUSPENDED, "本人申请：2026年上半年外出学习，暂停参加评审"),
    31: (ExpertStatus.SUSPENDED, "上一轮评审中两次逾期未提交评分，暂停一轮"),
    20: (ExpertStatus.REMOVED, "本人因健康原因申请退出专家库"),
    11: (ExpertStatus.REMOVED, "未如实申报与申报单位的利害关系，经核实予以出库"),
}

# expert index → (days from today the period starts, length in days, note)
UNAVAILABLE = {
    0: [(20, 5, "赴京参加全国社会工作教育年会")],
    2: [(-3, 10, "出国访学")],
    12: [(7, 14, "援疆医疗任务")],
    24: [(30, 3, "全省特殊教育教研活动")],
}


def _years_ago(today: date, years: float) -> date:
    return today - timedelta(days=round(years * 365.25))


def seed_experts(today: date) -> list[Expert]:
    """Add the demo experts (after the demo organisations and accounts exist); the caller commits."""
    districts = {d.code: d.id for d in db.session.scalars(db.select(District))}
    orgs = {o.name: o for o in db.session.scalars(db.select(Organization))}
    staff = db.session.scalar(
        db.select(User).where(User.role == Role.STAFF, User.district_id.is_(None)).order_by(User.id)
    ) or db.session.scalar(db.select(User).where(User.role == Role.ADMIN).order_by(User.id))
    demo_user = db.session.scalar(db.select(User).where(User.email == DEMO_EXPERT_LOGIN))
    # Demo accounts other than 李教授 have no known password: each can be sent a set-password link.
    from incubator.accounts.passwords import hash_password

    unusable = hash_password(secrets.token_urlsafe(32))
    experts = []
    for i, (name, title, employer, domain, dcode, fields, limit) in enumerate(EXPERTS):
        email = f"{PINYIN[i]}@{domain}"
        mobile = f"1370379{1000 + i:04d}"
        if i == 0 and demo_user is not None:
            user = demo_user
            email = demo_user.email
            user.mobile = user.mobile or mobile
            mobile = user.mobile
        else:
            user = User(name=name, email=email, mobile=mobile, role=Role.EXPERT, active=True,
                        password_hash=unusable, session_version=0)
            db.session.add(user)
            db.session.flush()
        expert = Expert(
            user_id=user.id, name=name, mobile=mobile, email=email, title=title, employer=employer,
            district_id=districts.get(dcode) if dcode else None, max_reviews_per_round=limit,
            status=ExpertStatus.ACTIVE,
            bio=f"{employer}{title}，长期关注{'、'.join(f.label for f in fields)}领域的社会组织发展与项目评估。",
        )
        expert.fields = [ExpertField(field=f) for f in fields]
        org = orgs.get(EMPLOYED_AT.get(i, ""))
        if org is not None:
            expert.employer_uscc, expert.employer_org_id = org.uscc, org.id
        for org_name, kind, start_years, end_years, note in RELATIONS.get(i, []):
            rel_org = orgs.get(org_name)
            expert.relations.append(ExpertRelation(
                org_id=rel_org.id if rel_org else None, org_uscc=rel_org.uscc if rel_org else None, org_name=org_name,
                kind=kind, start_on=_years_ago(today, start_years),
                end_on=_years_ago(today, end_years) if end_years is not None else None, note=note,
            ))
        for start, days, note in UNAVAILABLE.get(i, []):
            expert.unavailable.append(ExpertUnavailability(
                start_on=today + timedelta(days=start), end_on=today + timedelta(days=start + days - 1), note=note))
        db.session.add(expert)
        db.session.flush()
        if i in STATUSES:
            to, reason = STATUSES[i]
            states.transition(expert, to, by=staff, note=reason)
            expert.status_reason = reason
        experts.append(expert)
    db.session.flush()
    return experts
