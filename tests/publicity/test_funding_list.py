"""The funding list: proposal from a closed round, amounts and approval within the limits (exact money)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from incubator.applications.models import ApplicationStatus
from incubator.core.audit import AuditLog
from incubator.core.states import history
from incubator.publicity import services
from incubator.publicity.models import FundingListStatus
from incubator.review.models import RoundStatus
from tests.conftest import login_as
from tests.publicity.helpers import funding_world


def test_propose_moves_applications_and_starts_with_the_requested_amounts(db):
    w = funding_world()
    assert [i.application.number for i in w.list.items] == ["WCT-2026-0001", "WCT-2026-0002", "WCT-2026-0003"]
    assert {a.status for a in w.apps} == {ApplicationStatus.PROPOSED}
    assert [i.amount for i in w.list.items] == [Decimal("36000.00")] * 3
    assert [i.position for i in w.list.items] == [1, 2, 3] and w.list.items[0].score == Decimal("90")
    assert history(w.apps[0])[-1].to_status == "proposed"
    # a second proposal without the third takes it off the list: proposed → passed
    added, removed = services.propose(w.round, w.apps[:2], by=w.staff)
    assert (added, removed) == (0, 1)
    assert w.apps[2].status == ApplicationStatus.PASSED and len(w.list.items) == 2


def test_propose_refused_while_scoring_or_after_approval(db):
    w = funding_world()
    w.round.status = RoundStatus.SCORING
    with pytest.raises(services.PublicityError, match="评分结束后"):
        services.propose(w.round, w.apps, by=w.staff)
    w.round.status = RoundStatus.CLOSED
    services.approve(w.list, by=w.staff)
    with pytest.raises(services.PublicityError, match="已审定"):
        services.propose(w.round, w.apps[:1], by=w.staff)


@pytest.mark.parametrize("amount, message", [
    (Decimal("36000.01"), "不能超过申请资助金额 ¥36,000.00"),
    (Decimal("9999.99"), "不能低于本通知的最低资助额 ¥10,000.00"),
    (Decimal("0"), "须大于 0"),
    (Decimal("-0.01"), "须大于 0"),
    (Decimal("0.001"), "精确到分"),
    (Decimal("NaN"), "格式不正确"),
    (Decimal("Infinity"), "格式不正确"),
])
def test_amount_limits(db, amount, message):
    w = funding_world()
    item = w.list.items[0]
    with pytest.raises(services.InvalidInput) as exc:
        services.set_amounts(w.list, {item.id: amount}, by=w.staff)
    assert message in exc.value.errors[item.id]
    assert item.amount == Decimal("36000.00")  # unchanged


def test_pool_exceeded_refuses_approval_exactly(db):
    w = funding_world(fund_pool="108000.00")
    assert services.approve(w.list, by=w.staff) == Decimal("108000.00")  # exactly the pool is allowed
    services.withdraw_approval(w.list, by=w.staff, reason="重新核定金额")
    w.list.items[0].amount = Decimal("36000.00")
    w.call.fund_pool = Decimal("107999.99")
    with pytest.raises(services.InvalidInput, match=r"超过本通知资金总额 ¥107,999.99（超出 ¥0.01）"):
        services.approve(w.list, by=w.staff)
    assert w.list.status == FundingListStatus.DRAFT and w.list.total is None


def test_approval_is_audited_with_the_amounts(db):
    w = funding_world()
    services.set_amounts(w.list, {w.list.items[0].id: Decimal("30000.50")}, by=w.staff)
    total = services.approve(w.list, by=w.staff)
    assert total == Decimal("102000.50") and w.list.total == total
    row = db.session.scalar(db.select(AuditLog).where(AuditLog.action == "funding_list.approve"))
    assert row.after["total"] == "102000.50" and row.after["items"]["WCT-2026-0001"] == "30000.50"
    with pytest.raises(services.PublicityError, match="金额不能再修改"):
        services.set_amounts(w.list, {w.list.items[0].id: Decimal("20000")}, by=w.staff)


@pytest.mark.parametrize("text, message", [
    ("NaN", "格式不正确"), ("Infinity", "格式不正确"), ("1e309", "格式不正确"), ("-0.01", "须大于 0"),
    ("0.001", "精确到分"), ("36000.01", "不能超过申请资助金额"), ("1,00", "千分位"),
    ("１２３", "不能低于本通知的最低资助额"), ("12345678901234567890", "数值过大"),
])
def test_amount_form_refuses_bad_input_and_keeps_it(client, db, text, message):
    w = funding_world()
    db.session.commit()
    login_as(client, w.staff)
    item = w.list.items[0]
    resp = client.post(f"/staff/publicity/lists/{w.list.id}/amounts", data={f"amount-{item.id}": text})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in html
    assert f'value="{text}"' in html
    db.session.expire_all()
    assert item.amount == Decimal("36000.00")


def test_amount_form_saves_grouped_amounts_and_approves(client, db):
    w = funding_world()
    db.session.commit()
    login_as(client, w.staff)
    item = w.list.items[1]
    resp = client.post(f"/staff/publicity/lists/{w.list.id}/amounts",
                       data={f"amount-{item.id}": "30,000.00", "status": "final", "total": "1"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert item.amount == Decimal("30000.00") and w.list.status == FundingListStatus.DRAFT
    resp = client.post(f"/staff/publicity/lists/{w.list.id}/approve")
    assert resp.status_code == 302
    db.session.expire_all()
    assert w.list.status == FundingListStatus.APPROVED and w.list.total == Decimal("102000.00")
    page = client.get(f"/staff/publicity/lists/{w.list.id}").get_data(as_text=True)
    assert "¥102,000.00" in page and "开始公示" in page


def test_approve_view_refuses_pool_overrun(client, db):
    w = funding_world(fund_pool="100000.00")
    db.session.commit()
    login_as(client, w.staff)
    resp = client.post(f"/staff/publicity/lists/{w.list.id}/approve")
    assert resp.status_code == 422
    assert "超过本通知资金总额 ¥100,000.00" in resp.get_data(as_text=True)


def test_propose_from_the_ranking_page(client, db):
    w = funding_world()
    services.propose(w.round, w.apps[:1], by=w.staff)
    db.session.commit()
    login_as(client, w.staff)
    resp = client.post(f"/staff/ranking/rounds/{w.round.id}/propose",
                       data={"application_id": [str(w.apps[0].id), str(w.apps[2].id)]})
    assert resp.status_code == 302 and f"/staff/publicity/lists/{w.list.id}" in resp.headers["Location"]
    db.session.expire_all()
    assert [a.status for a in w.apps] == [ApplicationStatus.PROPOSED, ApplicationStatus.PASSED,
                                          ApplicationStatus.PROPOSED]
    resp = client.post(f"/staff/ranking/rounds/{w.round.id}/propose", data={"application_id": "0"})
    assert resp.status_code == 422
