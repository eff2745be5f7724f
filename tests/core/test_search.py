"""like_pattern: what a user types is matched literally, wildcards included; LabeledEnum.parse for filters."""
from __future__ import annotations

from incubator.core.search import LIKE_ESCAPE, like_pattern
from incubator.orgs.models import OrgType


def test_like_pattern_escapes_wildcards_and_the_escape_character():
    assert like_pattern("社工") == "%社工%"
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"
    assert LIKE_ESCAPE == "\\"


def test_like_pattern_matches_literally_in_the_database(db):
    from incubator.extensions import db as _db
    from tests.factories import make_org

    make_org(name="百分之50%服务中心")
    make_org(name="百分之500服务中心")
    from incubator.orgs.models import Organization

    names = _db.session.scalars(_db.select(Organization.name).where(
        Organization.name.ilike(like_pattern("50%"), escape=LIKE_ESCAPE))).all()
    assert names == ["百分之50%服务中心"]


def test_labeled_enum_parse_takes_only_member_values():
    assert OrgType.parse("foundation") is OrgType.FOUNDATION
    assert OrgType.parse("FOUNDATION") is None and OrgType.parse(None) is None and OrgType.parse("") is None
