"""Password policy and hashing (SECURITY.md: 8 / 12 characters, ≤ 128, no composition rules,
offline common-password list, slow hash)."""
from __future__ import annotations

import pytest

from incubator.accounts.models import Role
from incubator.accounts.passwords import (
    MAX_LENGTH,
    check_password_policy,
    common_passwords,
    hash_password,
    verify_password,
)


def test_common_list_is_shipped_offline_and_large():
    words = common_passwords()
    assert len(words) > 3000
    for known in ("password", "12345678", "qwertyuiop", "woaini1314", "1qaz2wsx", "5201314", "iloveyou"):
        assert known in words


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.EXPERT, Role.EVALUATOR])
def test_eight_characters_for_ordinary_roles(role):
    assert check_password_policy("ab cd ef", role) == []
    problems = check_password_policy("abcdefg", role)
    assert any("至少需要 8 个字符" in p for p in problems)


@pytest.mark.parametrize("role", [Role.STAFF, Role.FINANCE, Role.ADMIN, "admin"])
def test_twelve_characters_for_staff_finance_admin(role):
    assert check_password_policy("river stones", role) == []
    assert any("至少需要 12 个字符" in p for p in check_password_policy("river stone", role))


def test_no_composition_rules():
    # Lower-case letters only, no digit, no symbol: fine if long enough and not common.
    assert check_password_policy("purple elephants dance", Role.ADMIN) == []


def test_upper_bound_128_and_1000_characters_refused_with_message():
    assert check_password_policy("x" * 60 + "y" * 68, Role.APPLICANT) == []
    problems = check_password_policy("ab" * 500, Role.APPLICANT)
    assert any(f"最多 {MAX_LENGTH} 个字符" in p for p in problems)


@pytest.mark.parametrize("common", ["password", "PASSWORD", "Password123", "12345678", "qwertyuiop", "woaini1314",
                                    "1qaz2wsx3edc", "iloveyou520", "19900101", "aaaaaaaaaaaa"])
def test_common_and_trivial_passwords_refused(common):
    problems = check_password_policy(common, Role.APPLICANT)
    assert problems and any(("常见" in p) or ("同一个字符" in p) for p in problems)


def test_full_width_common_password_is_still_common():
    # NFKC: the IME's full-width "ｐａｓｓｗｏｒｄ" is the same as "password".
    assert any("常见" in p for p in check_password_policy("ｐａｓｓｗｏｒｄ", Role.APPLICANT))


def test_nul_byte_refused_clearly():
    assert check_password_policy("good password\x00x", Role.APPLICANT) == ["密码不能包含空字符（NUL）。"]


@pytest.mark.parametrize("password", ["社会组织孵化平台密码", "🔐🔑🗝️🔒🔓🛡️🚪🏠", "我的 password 是秘密"])
def test_chinese_and_emoji_passwords_allowed(password):
    assert check_password_policy(password, Role.APPLICANT) == []
    hashed = hash_password(password)
    assert hashed.startswith("scrypt:")
    assert verify_password(hashed, password)
    assert not verify_password(hashed, password + "x")


def test_hash_is_slow_and_salted():
    a, b = hash_password("same password here"), hash_password("same password here")
    assert a != b and a.startswith("scrypt:") and "same password" not in a


def test_verify_never_raises():
    assert verify_password("not-a-hash", "whatever") is False
    assert verify_password(None, "whatever") is False
    assert verify_password(hash_password("abcdefgh1"), None) is False
    assert verify_password(hash_password("abcdefgh1"), "x" * 100_000) is False
