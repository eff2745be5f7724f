from decimal import Decimal

import pytest

from incubator.db import MoneyError, from_fen, to_fen
from incubator.web import format_date, format_money


def test_home_page_is_chinese(client):
    r = client.get("/")
    assert r.status_code == 200
    assert "社会组织孵化与资助管理平台" in r.get_data(as_text=True)


def test_security_headers(client):
    r = client.get("/")
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"


def test_unknown_page_is_chinese_404(client):
    r = client.get("/no-such-page")
    assert r.status_code == 404
    assert "页面不存在" in r.get_data(as_text=True)


@pytest.mark.parametrize(
    "value, fen",
    [("0.01", 1), ("12345.67", 1234567), (Decimal("0.10") + Decimal("0.20"), 30), (5, 500), ("-0.01", -1)],
)
def test_money_round_trip(value, fen):
    assert to_fen(value) == fen
    assert from_fen(fen) == Decimal(str(value)) if not isinstance(value, Decimal) else from_fen(fen) == value


@pytest.mark.parametrize("bad", [0.1, "NaN", "Infinity", "1e309x", "0.001", "abc"])
def test_money_refuses_inexact(bad):
    with pytest.raises(MoneyError):
        to_fen(bad)


def test_formats():
    assert format_money(Decimal("12345.67")) == "¥12,345.67"
    assert format_money(Decimal("-5")) == "-¥5.00"
    from datetime import date

    assert format_date(date(2026, 12, 1)) == "2026年12月1日"


def test_static_files_do_not_send_the_session_cookie(client):
    """A stylesheet answered after a login must not put the old session back (cookie race)."""
    from tests.factories import make_user
    from tests.conftest import login_as

    login_as(client, make_user())
    page = client.get("/dashboard")
    assert page.status_code == 200
    css = client.get("/static/css/app.css")
    assert css.status_code == 200
    assert "Set-Cookie" not in css.headers
    css.close()
