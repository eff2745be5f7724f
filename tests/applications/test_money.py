"""Money stays exact: Decimal from the form to the database and back, bad amounts kept as typed."""
from __future__ import annotations

from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from incubator.applications import services
from incubator.applications.forms import parse_draft
from incubator.applications.models import Application, line_amount
from incubator.extensions import db as _db
from tests.applications.helpers import form_data, make_application, make_call
from tests.conftest import login_as


def _lines(**rows):
    return MultiDict({f"budget-{k}": v for k, v in rows.items()})


def test_point_one_times_three_is_exactly_point_three(db):
    call = make_call()
    app = make_application(call, complete=False)
    data = MultiDict({"budget-0-item": "矿泉水", "budget-0-category": "materials", "budget-0-unit_price": "0.1",
                      "budget-0-quantity": "3", "budget-0-source": "grant",
                      "budget-1-item": "纸杯", "budget-1-category": "materials", "budget-1-unit_price": "0.2",
                      "budget-1-quantity": "1", "budget-1-source": "grant"})
    services.save_draft(app, draft=parse_draft(data, call), by=app.created_by)
    _db.session.commit()
    _db.session.expire_all()
    app = _db.session.get(Application, app.id)
    assert app.budget_lines[0].amount == Decimal("0.30")
    assert app.grant_requested == Decimal("0.50") and app.total_budget == Decimal("0.50")
    assert str(app.total_budget) == "0.50"


@pytest.mark.parametrize("price, qty, amount", [
    ("0.01", "0.5", "0.01"),  # 0.005 → 0.01 (ROUND_HALF_UP)
    ("0.01", "0.49", "0.00"),
    ("33.33", "3", "99.99"),
    ("1,000.00", "2.5", "2500.00"),
    ("１２３", "２", "246.00"),  # full-width digits normalised
    ("100000000", "1000000", "100000000000000.00"),  # the largest line still exact
])
def test_line_amounts_are_exact(db, price, qty, amount):
    call = make_call()
    app = make_application(call, complete=False)
    data = MultiDict({"budget-0-item": "项", "budget-0-unit_price": price, "budget-0-quantity": qty})
    services.save_draft(app, draft=parse_draft(data, call), by=app.created_by)
    _db.session.commit()
    _db.session.expire_all()
    assert _db.session.get(Application, app.id).budget_lines[0].amount == Decimal(amount)


def test_line_amount_rounds_half_up():
    assert line_amount(Decimal("0.05"), Decimal("0.50")) == Decimal("0.03")
    assert line_amount(Decimal("2.50"), Decimal("0.01")) == Decimal("0.03")
    assert line_amount(None, Decimal("1")) is None


BAD = [
    ("1e309", "格式不正确"),
    ("NaN", "格式不正确"),
    ("Infinity", "格式不正确"),
    ("-0.01", "不能为负数"),
    ("0.001", "最多保留两位小数（精确到分）"),
    ("12345678901234567890", "数值过大"),
    ("1,00", "千分位逗号位置不正确"),
    ("¥12.3.4", "格式不正确"),
]


@pytest.mark.parametrize("typed, message", BAD, ids=[b[0] for b in BAD])
def test_bad_amounts_never_500_and_the_input_is_kept(client, db, typed, message):
    app = make_application()
    member = app.created_by
    _db.session.commit()
    login_as(client, member)
    r = client.post(f"/applications/{app.id}/edit", data=form_data(**{"budget-0-unit_price": typed}))
    assert r.status_code == 302
    page = client.get(f"/applications/{app.id}/edit").text
    assert f'value="{typed}"' in page
    assert message in page
    r = client.post(f"/applications/{app.id}/autosave", data=form_data(**{"budget-0-unit_price": typed}))
    assert r.status_code == 200 and message in r.json["errors"]["budget-0-unit_price"]
    r = client.post(f"/applications/{app.id}/submit", data=form_data(**{"budget-0-unit_price": typed}))
    assert r.status_code == 422 and message in r.text and f"（当前填写：“{typed}”）" in r.text
    _db.session.expire_all()
    app = _db.session.get(Application, app.id)
    assert app.budget_lines[0].unit_price is None and app.budget_lines[0].amount is None
    assert app.total_budget == Decimal("24000.00")  # the other lines only, still exact


def test_full_width_amount_is_accepted_as_its_value(client, db):
    app = make_application()
    member = app.created_by
    _db.session.commit()
    login_as(client, member)
    client.post(f"/applications/{app.id}/edit", data=form_data(**{"budget-0-unit_price": "１２００"}))
    _db.session.expire_all()
    line = _db.session.get(Application, app.id).budget_lines[0]
    assert line.unit_price == Decimal("1200.00") and line.amount == Decimal("36000.00")


def test_totals_are_recomputed_on_the_server_not_taken_from_the_page(db):
    call = make_call()
    app = make_application(call)
    app.total_budget = Decimal("1.00")  # as if a tampered page had sent it
    services.save_draft(app, draft=parse_draft(MultiDict(form_data(call)), call), by=app.created_by)
    assert (app.grant_requested, app.matching_amount, app.total_budget) == (
        Decimal("36000.00"), Decimal("24000.00"), Decimal("60000.00"))


def test_the_largest_budget_fits_the_database(db):
    """200 lines at the largest price and quantity: no overflow of the BIGINT 分 column."""
    call = make_call()
    app = make_application(call, complete=False)
    rows = {}
    for i in range(200):
        rows.update({f"budget-{i}-item": "项", f"budget-{i}-unit_price": "100000000", f"budget-{i}-quantity": "1000000"})
    services.save_draft(app, draft=parse_draft(MultiDict(rows), call), by=app.created_by)
    _db.session.commit()
    _db.session.expire_all()
    assert _db.session.get(Application, app.id).total_budget == Decimal("20000000000000000.00")


def test_quantity_above_the_limit_is_kept_as_typed(db):
    call = make_call()
    app = make_application(call, complete=False)
    data = MultiDict({"budget-0-item": "项", "budget-0-unit_price": "1", "budget-0-quantity": "1000001"})
    services.save_draft(app, draft=parse_draft(data, call), by=app.created_by)
    assert app.raw_inputs["budget-0-quantity"]["error"] == "预算明细第1行数量不能超过1000000"
