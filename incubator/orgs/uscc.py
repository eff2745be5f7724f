"""统一社会信用代码 (GB 32100-2015): validation and the check character.

Layout: 1 登记管理部门码, 2 机构类别码, 3–8 行政区划码, 9–17 主体标识码 (GB 11714), 18 check.
Alphabet of 31 characters (no I, O, S, V, Z); weights 3^(i-1) mod 31.
"""
from __future__ import annotations

import unicodedata

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28

# 登记管理部门码 5 = 民政; 机构类别码 under it (GB 32100 appendix).
CIVIL_AFFAIRS_CATEGORIES = {
    "1": "社会团体",
    "2": "民办非企业单位（社会服务机构）",
    "3": "基金会",
    "9": "其他",
}
# GB 11714 organisation code check (positions 9–17): weights and alphabet.
_ORG_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_ORG_CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def check_character(first17: str) -> str:
    total = sum(VALUES[ch] * w for ch, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def normalise(code: str) -> str:
    """Full-width to half-width, spaces removed, upper case."""
    code = unicodedata.normalize("NFKC", code or "")
    return "".join(code.split()).upper()


def validate(code: str) -> str:
    """Return the normalised code, or raise ValueError with a Chinese message."""
    code = normalise(code)
    if not code:
        raise ValueError("请填写统一社会信用代码")
    if len(code) != 18:
        raise ValueError(f"统一社会信用代码应为18位，当前为{len(code)}位")
    bad = sorted({ch for ch in code if ch not in VALUES})
    if bad:
        letters = "、".join(bad)
        if set(bad) <= set("IOSVZ"):
            raise ValueError(f"统一社会信用代码不使用字母 I、O、S、V、Z，发现：{letters}")
        raise ValueError(f"统一社会信用代码含有无效字符：{letters}")
    if not code[2:8].isdigit():
        raise ValueError("统一社会信用代码第3至8位应为行政区划代码（数字）")
    expected = check_character(code[:17])
    if code[17] != expected:
        raise ValueError("统一社会信用代码校验位不正确，请核对后重新填写")
    return code


def civil_affairs_category(code: str) -> str | None:
    """The 民政 category (社会团体 …) for a code registered with 民政, else None."""
    if code[0] != "5":
        return None
    return CIVIL_AFFAIRS_CATEGORIES.get(code[1])


def validate_civil_affairs(code: str) -> str:
    """validate() plus: the code must be registered with 民政 (starts with 51/52/53/59)."""
    code = validate(code)
    if civil_affairs_category(code) is None:
        raise ValueError("该代码不是民政部门登记的社会组织代码（应以51、52、53或59开头），企业等其他主体请勿在此注册")
    return code


def org_code_warning(code: str) -> str | None:
    """GB 11714 check inside positions 9–17. Early pilot codes fail it: warn, never reject."""
    body, check = code[8:16], code[16]
    if any(ch not in _ORG_CODE_CHARS for ch in body):
        return "组织机构代码部分含非常规字符，请核对"
    total = sum(_ORG_CODE_CHARS.index(ch) * w for ch, w in zip(body, _ORG_CODE_WEIGHTS))
    c = 11 - total % 11
    expected = "0" if c == 11 else "X" if c == 10 else str(c)
    if check != expected:
        return "组织机构代码（第9至17位）校验未通过，部分早期试点代码属此情况，请核对证书"
    return None


def make_code(prefix: str, region: str, body: str) -> str:
    """Build a valid code from its parts (tests and demo data). ``body`` is 9 characters."""
    first17 = prefix + region + body
    assert len(first17) == 17
    return first17 + check_character(first17)
