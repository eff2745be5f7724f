"""洛阳市: its districts (GB/T 2260 codes) with some real streets and communities.

``seed_luoyang()`` is idempotent: it adds what is missing (matched by district code, then by name
inside the parent) and never deletes or renames. The demo-data command calls it; an installation
adds the rest of its streets and communities the same way.

Sources: GB/T 2260 / 国家统计局统计用区划代码 (district codes and street lists, 2023); community
names from the districts' and 洛阳网 public pages. The lists are deliberately short samples.
"""
from __future__ import annotations

from incubator.extensions import db
from incubator.regions.models import Community, District, Street

# code, district, {street: [communities]}
LUOYANG: list[tuple[str, str, dict[str, list[str]]]] = [
    ("410302", "老城区", {
        "西关街道": [],
        "西南隅街道": [],
        "东南隅街道": [],
        "洛浦街道": [],
        "邙山街道": [],
    }),
    ("410303", "西工区", {
        "金谷园街道": ["春晴路社区", "白马集团社区", "健康西路社区", "健康东路社区", "纱厂西路社区", "八一北路社区"],
        "西工街道": ["014中心社区"],
        "王城路街道": [],
        "唐宫路街道": [],
    }),
    ("410304", "瀍河回族区", {
        "东关街道": [],
        "瀍西街道": [],
        "五股路街道": [],
        "塔湾街道": [],
        "华林新村街道": [],
    }),
    ("410305", "涧西区", {
        "湖北路街道": ["联盟社区"],
        "天津路街道": [],
        "长安路街道": [],
        "重庆路街道": [],
        "徐家营街道": [],
    }),
    ("410307", "偃师区", {
        "槐新街道": ["北关社区"],
        "伊洛街道": ["后庄社区"],
        "商城街道": [],
        "首阳山街道": [],
    }),
    ("410308", "孟津区", {
        "吉利街道": ["开元社区"],
        "城关镇": [],
        "会盟镇": [],
        "平乐镇": [],
    }),
    ("410311", "洛龙区", {
        "翠云路街道": ["广利社区"],
        "开元路街道": [],
        "关林街道": [],
        "龙门石窟街道": [],
        "安乐街道": [],
    }),
]


def seed_luoyang() -> list[District]:
    """Add the 洛阳市 districts, streets and communities that are missing; flush, never commit."""
    by_code = {d.code: d for d in db.session.scalars(db.select(District))}
    result = []
    for code, name, streets in LUOYANG:
        district = by_code.get(code)
        if district is None:
            district = District(code=code, name=name)
            db.session.add(district)
            db.session.flush()
        result.append(district)
        existing_streets = {s.name: s for s in district.streets}
        for street_name, communities in streets.items():
            street = existing_streets.get(street_name)
            if street is None:
                street = Street(district=district, name=street_name)
                db.session.add(street)
                db.session.flush()
            existing_communities = {c.name for c in street.communities}
            for community_name in communities:
                if community_name not in existing_communities:
                    db.session.add(Community(street=street, name=community_name))
    db.session.flush()
    return result
