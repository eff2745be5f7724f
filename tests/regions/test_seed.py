"""seed_luoyang(): the 洛阳市 districts with their GB/T 2260 codes, idempotent."""
from incubator.regions.models import Community, District, Street
from incubator.regions.seed import seed_luoyang

CODES = {"410302": "老城区", "410303": "西工区", "410304": "瀍河回族区", "410305": "涧西区", "410307": "偃师区",
         "410308": "孟津区", "410311": "洛龙区"}


def counts(db):
    return tuple(db.session.scalar(db.select(db.func.count()).select_from(m)) for m in (District, Street, Community))


def test_seed_creates_the_districts_with_streets(db):
    seed_luoyang()
    districts = {d.code: d for d in db.session.scalars(db.select(District))}
    assert {code: d.name for code, d in districts.items()} == CODES
    assert all(len(d.streets) >= 3 for d in districts.values())
    assert "金谷园街道" in {s.name for s in districts["410303"].streets}
    jingu = next(s for s in districts["410303"].streets if s.name == "金谷园街道")
    assert "春晴路社区" in {c.name for c in jingu.communities}


def test_seed_is_idempotent_and_keeps_additions(db):
    seed_luoyang()
    first = counts(db)
    district = db.session.scalar(db.select(District).where(District.code == "410311"))
    db.session.add(Street(district=district, name="新设街道"))
    db.session.flush()
    seed_luoyang()
    seed_luoyang()
    assert counts(db) == (first[0], first[1] + 1, first[2])
