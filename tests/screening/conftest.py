"""Fixtures of the screening tests."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.factories import make_district


@pytest.fixture()
def two_districts(db):
    """District A with an eligible org, district B with another; a city call; staff of each scope."""
    from tests.screening.helpers import admin, make_call, make_member, make_org, staff

    w = SimpleNamespace()
    w.district_a = make_district(name="甲区", code="410311")
    w.district_b = make_district(name="乙区", code="410312")
    w.org_a = make_org(district=w.district_a, name="甲区阳光社工服务中心")
    w.org_b = make_org(district=w.district_b, name="乙区夕阳红养老服务中心")
    w.member_a = make_member(w.org_a, email="member.a@example.cn")
    w.member_b = make_member(w.org_b, email="member.b@example.cn")
    w.call = make_call()
    w.staff_a = staff(w.district_a)
    w.staff_b = staff(w.district_b)
    w.staff_city = staff()
    w.admin = admin()
    return w
