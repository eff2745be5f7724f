"""Plain factory functions: make_x(**overrides) returns a flushed model object."""
from __future__ import annotations

import itertools
from datetime import date

from werkzeug.security import generate_password_hash

from incubator.accounts.models import Role, User
from incubator.extensions import db
from incubator.orgs.models import OrgField, Organization, OrgType, ServiceField, Verification
from incubator.orgs.uscc import make_code
from incubator.regions.models import Community, District, Street

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"
# Hashing is slow on purpose; tests share one hash of PASSWORD.
_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


# Codes the factory hands out: never one that a test picks by hand (410302, 410303, 410355, 410399 …: all
# 4103NN or 4199NN), in either order, and never one already in the database (the seeded city, a test's own districts).
# Ten thousand of them (4200NN…4299NN): property tests make a district per example without emptying tables.
FACTORY_DISTRICT_CODES = [f"42{n:04d}" for n in range(10000)]


def _free_district_code() -> str:
    taken = set(db.session.scalars(db.select(District.code)))
    for _ in range(len(FACTORY_DISTRICT_CODES)):
        code = FACTORY_DISTRICT_CODES[next(_seq) % len(FACTORY_DISTRICT_CODES)]
        if code not in taken:
            return code
    raise RuntimeError("every factory district code is taken; pass code=")


def make_district(**kw) -> District:
    n = next(_seq)
    code = kw.pop("code", None) or _free_district_code()
    d = District(code=code, name=kw.pop("name", f"测试{n}区"), **kw)
    db.session.add(d)
    db.session.flush()
    return d


def make_street(district: District | None = None, **kw) -> Street:
    s = Street(district=district or make_district(), name=kw.pop("name", f"测试街道{next(_seq)}"), **kw)
    db.session.add(s)
    db.session.flush()
    return s


def make_community(street: Street | None = None, **kw) -> Community:
    c = Community(street=street or make_street(), name=kw.pop("name", f"测试社区{next(_seq)}"), **kw)
    db.session.add(c)
    db.session.flush()
    return c


def make_uscc(category: str = "2") -> str:
    n = next(_seq)
    return make_code("5" + category, "410302", f"MJ{n:07d}")


def make_org(**kw) -> Organization:
    n = next(_seq)
    district = kw.pop("district", None) or make_district()
    fields = kw.pop("fields", [ServiceField.ELDERLY])
    org_type = kw.pop("org_type", OrgType.SOCIAL_SERVICE_ORG)
    defaults = dict(
        name=f"洛阳市测试社会服务中心{n}",
        org_type=org_type,
        uscc=None if org_type == OrgType.FILED_COMMUNITY_ORG else make_uscc(),
        filing_number=f"备{n:06d}" if org_type == OrgType.FILED_COMMUNITY_ORG else None,
        district=district,
        address="洛阳市测试路1号",
        founded_on=date(2018, 5, 1),
        legal_rep="张三",
        contact_name="李四",
        contact_phone="13800000000",
        status=Verification.VERIFIED,
    )
    defaults.update(kw)
    org = Organization(**defaults)
    org.field_rows = [OrgField(field=f) for f in fields]
    db.session.add(org)
    db.session.flush()
    return org


def make_user(role: Role = Role.APPLICANT, **kw) -> User:
    n = next(_seq)
    defaults = dict(
        email=f"user{n}@example.cn",
        name=f"用户{n}",
        password_hash=_HASH,
        role=role,
        active=True,
    )
    defaults.update(kw)
    user = User(**defaults)
    db.session.add(user)
    db.session.flush()
    return user
