"""Password hashing and policy (SECURITY.md "Sessions and login", ASVS 6.2).

- at least 8 characters (12 for STRONG_PASSWORD_ROLES), at most 128, counted in Unicode code points
  after NFKC, so Chinese and emoji passwords are fine and a full-width IME gives the same password;
- no composition rules; a common-password list shipped in the repo (common_passwords.txt) plus
  birth dates (19900101) refused;
- scrypt (werkzeug's default) as the slow hash.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from incubator.accounts.models import STRONG_PASSWORD_ROLES, Role

MIN_LENGTH = 8
MIN_LENGTH_STRONG = 12
MAX_LENGTH = 128
# Longer input is never hashed at login (a 10 MB "password" must not cost a scrypt run on it).
_MAX_VERIFY_LENGTH = 1024
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


def _prepare(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return generate_password_hash(_prepare(password))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash("not-a-real-password-used-for-timing")


def verify_password(password_hash: str | None, password: str | None) -> bool:
    """True if ``password`` matches; never raises. Unknown users are checked against a dummy hash
    by the caller (``dummy_verify``) so both answers take the same time."""
    if not password_hash or password is None or len(password) > _MAX_VERIFY_LENGTH or "\x00" in password:
        return False
    try:
        return check_password_hash(password_hash, _prepare(password))
    except (ValueError, TypeError):  # a malformed or unusable stored hash
        return False


def dummy_verify(password: str | None) -> None:
    """Spend the time a real check takes, for unknown accounts (no timing oracle)."""
    verify_password(_dummy_hash(), (password or "")[:_MAX_VERIFY_LENGTH])


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


_DATE_RE = re.compile(r"^(19|20)\d{6}$")


def _is_birth_date(password: str) -> bool:
    if not _DATE_RE.match(password):
        return False
    try:
        date(int(password[:4]), int(password[4:6]), int(password[6:8]))
    except ValueError:
        return False
    return True


def min_length_for(role: Role | str | None) -> int:
    try:
        role = Role(role) if role is not None else None
    except ValueError:
        role = None
    return MIN_LENGTH_STRONG if role in STRONG_PASSWORD_ROLES else MIN_LENGTH


def check_password_policy(password: str, role: Role | str | None) -> list[str]:
    """Chinese messages for every rule ``password`` breaks; an empty list means it is acceptable."""
    if password is None:
        return ["请输入密码。"]
    errors: list[str] = []
    if "\x00" in password:
        return ["密码不能包含空字符（NUL）。"]
    prepared = _prepare(password)
    length = len(prepared)
    minimum = min_length_for(role)
    if length < minimum:
        errors.append(f"密码至少需要 {minimum} 个字符（当前 {length} 个）。")
    if length > MAX_LENGTH:
        errors.append(f"密码最多 {MAX_LENGTH} 个字符（当前 {length} 个）。")
    if not prepared.strip():
        errors.append("密码不能全部是空格。")
    lowered = prepared.lower()
    if lowered in common_passwords() or _is_birth_date(prepared):
        errors.append("该密码过于常见，容易被猜中，请换一个。")
    elif len(set(prepared)) == 1 and length > 0:
        errors.append("密码不能由同一个字符重复组成。")
    return errors
