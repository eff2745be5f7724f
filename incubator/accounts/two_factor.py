"""TOTP second factor and one-time recovery codes (no Flask here: plain functions on a User)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy.orm.attributes import set_committed_value

from incubator.accounts.models import RecoveryCode, User
from incubator.db import utcnow
from incubator.extensions import db

INTERVAL = 30
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_data_uri(uri: str) -> str:
    """The otpauth:// URI as an SVG QR code in a data: URI (CSP allows img data:)."""
    img = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(img.to_string()).decode("ascii")


def current_counter(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // INTERVAL)


def _clean_code(code: str | None) -> str:
    return "".join(ch for ch in (code or "") if not ch.isspace())


def match_totp(secret: str, code: str | None, *, last_counter: int | None, now: float | None = None) -> int | None:
    """The time-step counter ``code`` belongs to (one step of clock drift either way), if it is
    newer than ``last_counter``; None otherwise. A code is never accepted twice."""
    code = _clean_code(code)
    if not (len(code) == 6 and code.isascii() and code.isdigit()) or not secret:
        return None
    totp = pyotp.TOTP(secret)
    now_counter = current_counter(now)
    floor = -1 if last_counter is None else last_counter
    for counter in (now_counter - 1, now_counter, now_counter + 1):
        if counter > floor and hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def verify_totp(user: User, code: str | None, *, now: float | None = None) -> bool:
    """Check a code against the user's enrolled secret and remember its step (no replay)."""
    if not user.has_usable_second_factor:
        return False
    counter = match_totp(user.totp_secret, code, last_counter=user.totp_last_counter, now=now)
    if counter is None:
        return False
    return claim_counter(user, counter)


def claim_counter(user: User, counter: int) -> bool:
    """Record ``counter`` as used, atomically: of two parallel requests with one code, one wins."""
    result = db.session.execute(
        db.update(User)
        .where(
            User.id == user.id,
            db.or_(User.totp_last_counter.is_(None), User.totp_last_counter < counter),
        )
        .values(totp_last_counter=counter)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    set_committed_value(user, "totp_last_counter", counter)
    return True


def _hash_recovery(code: str) -> str:
    normalized = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def looks_like_recovery_code(code: str | None) -> bool:
    cleaned = "".join(ch for ch in (code or "") if ch.isalnum())
    return len(cleaned) == 10 and cleaned.isascii()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with 10 fresh ones; returns the plain codes (shown once)."""
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_recovery(raw)))
    db.session.flush()
    return codes


def use_recovery_code(user: User, code: str | None) -> bool:
    """Accept an unused recovery code once."""
    if not looks_like_recovery_code(code):
        return False
    result = db.session.execute(
        db.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_recovery(code or ""),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def unused_recovery_codes(user: User) -> int:
    return db.session.scalar(
        db.select(db.func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    ) or 0
