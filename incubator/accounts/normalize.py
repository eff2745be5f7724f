"""Identifier normalisation: e-mails and mobile numbers that look the same are the same.

Applied when users are created or changed (``User`` validators) and when someone logs in, so
``Alice@Example.cn``, `` alice@example.cn ``, full-width ``ａｌｉｃｅ@example.cn`` and an e-mail
with a zero-width space all name one account (SECURITY.md, bad inputs 11).
"""
from __future__ import annotations

import re
import unicodedata

# Zero-width and other invisible formatting characters that survive NFKC.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
    None,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MOBILE_SEPARATORS = re.compile(r"[\s\-()（）]")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def strip_invisible(value: str) -> str:
    return value.translate(_INVISIBLE)


def normalize_text(value: str | None) -> str:
    """NFKC, no invisible characters, surrounding whitespace removed."""
    if value is None:
        return ""
    return strip_invisible(unicodedata.normalize("NFKC", value)).strip()


def normalize_email(value: str | None) -> str:
    return normalize_text(value).lower()


def normalize_mobile(value: str | None) -> str:
    """Full-width digits become ASCII; spaces, dashes and a +86 / 0086 prefix go."""
    text = _MOBILE_SEPARATORS.sub("", normalize_text(value))
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    if len(text) == 13 and text.startswith("86"):
        text = text[2:]
    return text


def normalize_identifier(value: str | None) -> tuple[str, str]:
    """What a person typed into the login box → ("email", e-mail) or ("mobile", number)."""
    text = normalize_text(value)
    if "@" in text:
        return "email", text.lower()
    return "mobile", normalize_mobile(text)


def single_line(value: str | None) -> str:
    """Names and other one-line fields: NFKC, no control characters (CR/LF log injection)."""
    text = normalize_text(value)
    return " ".join(_CONTROL.sub(" ", text).split())


def is_mobile(value: str) -> bool:
    return bool(MOBILE_RE.match(value))
