"""The factories never collide with data a test created by hand (a fixed district code once made an
order-dependent UniqueViolation on PostgreSQL)."""
from __future__ import annotations

import re

import pytest
from pathlib import Path

from tests.factories import FACTORY_DISTRICT_CODES, make_district


def test_make_district_skips_codes_already_taken(db, monkeypatch):
    from tests import factories

    monkeypatch.setattr(factories, "FACTORY_DISTRICT_CODES", ["430001", "430002", "430003"])
    make_district(code="430001", name="手工区1")
    make_district(code="430003", name="手工区3")
    assert make_district().code == "430002"
    with pytest.raises(RuntimeError, match="pass code="):
        make_district()


def test_no_test_picks_a_factory_district_code_by_hand():
    """Else a test that makes a factory district first and then picks that code by hand collides."""
    tests = Path(__file__).parent
    picked = {m for p in tests.rglob("*.py") for m in re.findall(r'code="(\d{6})"', p.read_text(encoding="utf-8"))}
    assert "410399" in picked  # the scan sees hand-picked codes
    assert not picked & set(FACTORY_DISTRICT_CODES), sorted(picked & set(FACTORY_DISTRICT_CODES))
