"""Identifiers that look the same are the same (SECURITY.md bad input 11)."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from incubator.accounts.normalize import normalize_email, normalize_identifier, normalize_mobile, single_line
from tests.factories import make_user


@pytest.mark.parametrize(
    "raw",
    ["alice@example.cn", " Alice@Example.CN ", "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｎ", "ali\u200bce@example.cn", "\ufeffalice@example.cn\u200d"],
)
def test_email_variants_normalise_to_one(raw):
    assert normalize_email(raw) == "alice@example.cn"


@pytest.mark.parametrize("raw", ["13800138000", "138 0013 8000", "+86 138-0013-8000", "１３８００１３８０００", "0086 13800138000"])
def test_mobile_variants_normalise_to_one(raw):
    assert normalize_mobile(raw) == "13800138000"
    assert normalize_identifier(raw) == ("mobile", "13800138000")


def test_names_lose_line_breaks():
    assert single_line("张三\r\n[admin] 登录成功") == "张三 [admin] 登录成功"


@pytest.mark.parametrize("variant", ["ALICE@example.cn", " alice@example.cn", "ａｌｉｃｅ@example.cn", "alice\u200b@example.cn"])
def test_users_differing_only_in_case_space_width_or_zero_width_collide(db, variant):
    make_user(email="alice@example.cn")
    with pytest.raises(IntegrityError):
        make_user(email=variant)
    db.session.rollback()


def test_mobile_stored_normalised(db):
    user = make_user(mobile="+86 138 0013 8000")
    assert user.mobile == "13800138000"
