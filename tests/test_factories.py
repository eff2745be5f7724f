"""The factories never collide with data a test created by hand (a fixed district code once made an
order-dependent UniqueViolation on PostgreSQL)."""
from __future__ import annotations

from tests.factories import make_district


def test_make_district_skips_codes_already_taken(db):
    for n in range(100):
        if n != 57:
            make_district(code=f"4103{n:02d}", name=f"手工区{n}")
    assert make_district().code == "410357"
