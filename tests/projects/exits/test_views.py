"""The 结项与退出 tab, its forms and the staff list: happy paths, permissions, bad inputs."""
from __future__ import annotations

import io
import re
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import select

from incubator.accounts.models import Role
from incubator.db import today_local
from incubator.extensions import db as _db
from incubator.orgs.models import CreditKind, CreditRecord
from incubator.projects.exits import services
from incubator.projects.exits.models import RefundReceipt, Settlement, SettlementStatus, Termination
from incubator.projects.models import ProjectStatus
from tests.conftest import login_as
from tests.factories import make_district, make_user
from tests.projects.exits.helpers import PDF_BYTES, fully_paid, in_progress, verified_expense
from tests.projects.helpers import make_member

XSS = '<script>alert(1)</script><img src=x onerror=alert(1)>'
TODAY = today_local()


def _url(project, tail=""):
    return f"/projects/{project.id}/exit{tail}"


def _terminate_form(**kw):
    data = {"reason_kind": "breach", "detail": "擅自将服务整体转包给第三方。", "debar": "default",
            "debar_years": "3", "override_reason": "", "confirm": "y"}
    data.update(kw)
    return data


def _refund_form(amount="5000.00", voucher="TK-001", *, name="回单.pdf", data=PDF_BYTES):
    form = {"amount": amount, "received_on": TODAY.isoformat(), "voucher_no": voucher}
    if name is not None:
        form["file"] = (io.BytesIO(data), name)
    return form


def _text(resp):
    """The page's text: tags removed, entities unescaped."""
    return unescape(re.sub(r"<[^>]+>", "", resp.get_data(as_text=True)))


@pytest.fixture()
def world(db):
    project, staff, finance = in_progress("100000.00")
    verified_expense(project, "30000.00")
    member = make_member(project.org)
    _db.session.commit()
    return project, staff, finance, member


def test_staff_sees_both_forms_and_the_consequences(client, world):
    project, staff, _, _ = world
    login_as(client, staff)
    resp = client.get(_url(project))
    assert resp.status_code == 200
    text = _text(resp)
    assert "办理结项" in text and "终止项目（退出）" in text
    assert "结项评估尚未通过（未登记结项验收）" in text
    assert "第2期、第3期，共 ¥50,000.00）全部停止拨付" in text
    assert "应退回 ¥20,000.00" in text
    assert "3年内" in text and project.org.name in text
    assert 'data-confirm="确定终止' in resp.get_data(as_text=True)


def test_terminate_through_the_page(client, world):
    project, staff, _, member = world
    login_as(client, staff)
    resp = client.post(_url(project, "/terminate"), data=_terminate_form(status="in_progress", refund_due="0"))
    assert resp.status_code == 302
    _db.session.expire_all()
    assert project.status == ProjectStatus.TERMINATED
    t = _db.session.scalar(select(Termination))
    assert t.debar and t.debar_years == 3
    s = _db.session.scalar(select(Settlement))
    assert s.refund_due == Decimal("20000.00")  # the posted refund_due changed nothing
    text = _text(client.get(_url(project)))
    assert "禁入期" in text and f"{t.debar_until.year}年{t.debar_until.month}月{t.debar_until.day}日" in text
    assert "¥50,000.00" in text and "¥30,000.00" in text and "¥20,000.00" in text
    # the organisation sees its own settlement and refund due, read-only
    login_as(client, member)
    resp = client.get(_url(project))
    text = _text(resp)
    assert resp.status_code == 200
    assert "请将未经核定的资金 ¥20,000.00 退回" in text
    assert "禁入期" in text
    assert "<form" not in resp.get_data(as_text=True).split('data-testid="exit-page"')[1]


def test_terminate_refusals_keep_the_input(client, world):
    project, staff, _, _ = world
    login_as(client, staff)
    resp = client.post(_url(project, "/terminate"), data=_terminate_form(confirm="", detail="事实：未按约提供服务"))
    assert resp.status_code == 422
    assert "请勾选确认" in _text(resp) and "事实：未按约提供服务" in _text(resp)
    resp = client.post(_url(project, "/terminate"), data=_terminate_form(debar="no"))
    assert resp.status_code == 422
    assert "不予禁入须填写理由" in _text(resp)
    resp = client.post(_url(project, "/terminate"), data=_terminate_form(reason_kind="whim"))
    assert resp.status_code == 422
    _db.session.expire_all()
    assert project.status == ProjectStatus.IN_PROGRESS
    assert _db.session.scalar(select(Termination)) is None


@pytest.mark.parametrize("years", ["0", "100", "2.5", "abc", "-1", "99999999999999999999", "3\x00"])
def test_terminate_bad_debar_years(client, world, years):
    project, staff, _, _ = world
    login_as(client, staff)
    resp = client.post(_url(project, "/terminate"), data=_terminate_form(debar_years=years))
    assert resp.status_code == 422
    assert _db.session.scalar(select(Termination)) is None


@pytest.mark.parametrize("field,value", [("detail", "违约\x00事实"), ("override_reason", "理由\x00"),
                                         ("detail", "违" * 2001), ("reason_kind", "' OR 1=1--")])
def test_terminate_bad_text(client, world, field, value):
    project, staff, _, _ = world
    login_as(client, staff)
    resp = client.post(_url(project, "/terminate"), data=_terminate_form(**{field: value}))
    assert resp.status_code == 422
    assert _db.session.scalar(select(Termination)) is None


def test_refund_ignores_extra_fields(client, world):
    project, staff, finance, _ = world
    services.terminate(project, reason_kind="breach", detail="违约", by=staff)
    _db.session.commit()
    login_as(client, finance)
    form = _refund_form("100.00") | {"status": "refunded", "received_total": "20000.00", "refund_due": "0",
                                     "settlement_id": "1", "recorded_by_id": "1"}
    assert client.post(_url(project, "/refunds"), data=form, content_type="multipart/form-data").status_code == 302
    _db.session.expire_all()
    s = _db.session.scalar(select(Settlement))
    assert (s.received_total, s.refund_due, s.status) == (Decimal("100.00"), Decimal("20000.00"),
                                                          SettlementStatus.REFUND_DUE)
    assert _db.session.scalar(select(RefundReceipt)).recorded_by_id == finance.id


def test_terminate_escapes_markup(client, world):
    project, staff, _, member = world
    login_as(client, staff)
    assert client.post(_url(project, "/terminate"), data=_terminate_form(detail=XSS)).status_code == 302
    for user in (staff, member):
        login_as(client, user)
        html = client.get(_url(project)).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_terminate_twice_answers_409(client, world):
    project, staff, _, _ = world
    login_as(client, staff)
    assert client.post(_url(project, "/terminate"), data=_terminate_form()).status_code == 302
    resp = client.post(_url(project, "/terminate"), data=_terminate_form())
    assert resp.status_code == 409
    assert len(list(_db.session.scalars(select(CreditRecord).where(CreditRecord.kind == CreditKind.DEBARMENT)))) == 1


def test_close_refused_then_done(client, db):
    project, staff, finance = in_progress()
    _db.session.commit()
    login_as(client, staff)
    resp = client.post(_url(project, "/close"), data={"confirm_close": "y"})
    assert resp.status_code == 409
    assert "结项评估尚未通过" in _text(resp)
    project, staff, finance = fully_paid()
    verified_expense(project, "99000.00")
    _db.session.commit()
    login_as(client, staff)
    text = _text(client.get(_url(project)))
    assert "可以结项" in text
    assert client.post(_url(project, "/close"), data={"confirm_close": ""}).status_code == 422
    resp = client.post(_url(project, "/close"), data={"confirm_close": "y", "note": "验收合格"})
    assert resp.status_code == 302
    _db.session.expire_all()
    assert project.status == ProjectStatus.CLOSED
    text = _text(client.get(_url(project)))
    assert "资金结算（结项）" in text and "¥1,000.00" in text


def test_finance_records_partial_then_full_refund(client, world):
    project, staff, finance, member = world
    services.terminate(project, reason_kind="failed_evaluation", detail="中期评估不合格", by=staff)
    _db.session.commit()
    login_as(client, finance)
    page = _text(client.get(_url(project)))
    assert "登记退款到账（财务）" in page
    resp = client.post(_url(project, "/refunds"), data=_refund_form("12,000.00", "TK-1"),
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    s = _db.session.scalar(select(Settlement))
    assert s.status == SettlementStatus.REFUND_DUE and s.outstanding == Decimal("8000.00")
    resp = client.post(_url(project, "/refunds"), data=_refund_form("8000.01", "TK-2"),
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "超过尚未退回的金额（8,000.00元）" in _text(resp) and 'value="8000.01"' in resp.get_data(as_text=True)
    resp = client.post(_url(project, "/refunds"), data=_refund_form("8000.00", "TK-2"),
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    _db.session.expire_all()
    s = _db.session.scalar(select(Settlement))
    assert s.status == SettlementStatus.REFUNDED
    # everyone who sees the project can download the receipts; the form is gone
    receipt = _db.session.scalar(select(RefundReceipt).order_by(RefundReceipt.id))
    for user in (member, staff, finance):
        login_as(client, user)
        resp = client.get(_url(project, f"/refunds/{receipt.id}/file"))
        assert resp.status_code == 200 and resp.data == PDF_BYTES
        resp.close()
    login_as(client, finance)
    assert "登记退款到账（财务）" not in _text(client.get(_url(project)))
    resp = client.post(_url(project, "/refunds"), data=_refund_form("1.00", "TK-3"), content_type="multipart/form-data")
    assert resp.status_code == 409


@pytest.mark.parametrize("amount", ["-0.01", "0.001", "0", "NaN", "Infinity", "1e309", "abc", "1,00",
                                    "99999999999999999999", ""])
def test_refund_bad_amounts(client, world, amount):
    project, staff, finance, _ = world
    services.terminate(project, reason_kind="breach", detail="违约", by=staff)
    _db.session.commit()
    login_as(client, finance)
    resp = client.post(_url(project, "/refunds"), data=_refund_form(amount), content_type="multipart/form-data")
    assert resp.status_code == 422
    assert _db.session.scalar(select(RefundReceipt)) is None


@pytest.mark.parametrize("name,data", [(None, b""), ("回单.pdf", b"<html><script>x</script></html>"),
                                       ("回单.exe", PDF_BYTES), ("回单.pdf", b"")])
def test_refund_bad_files(client, world, name, data):
    project, staff, finance, _ = world
    services.terminate(project, reason_kind="breach", detail="违约", by=staff)
    _db.session.commit()
    login_as(client, finance)
    resp = client.post(_url(project, "/refunds"), data=_refund_form(name=name, data=data),
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    assert _db.session.scalar(select(RefundReceipt)) is None
    assert _db.session.scalar(select(Settlement)).received_total == Decimal("0.00")


def test_refund_bad_dates(client, world):
    project, staff, finance, _ = world
    services.terminate(project, reason_kind="breach", detail="违约", by=staff)
    _db.session.commit()
    login_as(client, finance)
    for day in ("2026-02-30", "0001-01-01", "9999-12-31", "昨天"):
        form = _refund_form() | {"received_on": day}
        resp = client.post(_url(project, "/refunds"), data=form, content_type="multipart/form-data")
        assert resp.status_code == 422, day
    assert _db.session.scalar(select(RefundReceipt)) is None


def test_permissions(client, world):
    project, staff, finance, member = world
    services.terminate(project, reason_kind="breach", detail="违约", by=staff)
    _db.session.commit()
    other_org_member = make_member()
    other_staff = make_user(Role.STAFF, district=make_district())
    # the organisation reads but cannot act
    login_as(client, member)
    assert client.get(_url(project)).status_code == 200
    assert client.post(_url(project, "/terminate"), data=_terminate_form()).status_code == 403
    assert client.post(_url(project, "/close"), data={"confirm_close": "y"}).status_code == 403
    assert client.post(_url(project, "/refunds"), data=_refund_form(), content_type="multipart/form-data").status_code == 403
    assert client.get("/staff/exits").status_code == 403
    # staff cannot record refunds; finance cannot terminate
    login_as(client, staff)
    assert client.post(_url(project, "/refunds"), data=_refund_form(), content_type="multipart/form-data").status_code == 403
    login_as(client, finance)
    assert client.post(_url(project, "/terminate"), data=_terminate_form()).status_code == 403
    # out of scope: 404
    for user in (other_org_member, other_staff, make_user(Role.EVALUATOR), make_user(Role.EXPERT)):
        login_as(client, user)
        assert client.get(_url(project)).status_code == 404
        assert client.post(_url(project, "/terminate"), data=_terminate_form()).status_code == 404
    login_as(client, staff)
    for bad in ("/projects/99999999999/exit", "/projects/0/exit", "/projects/-1/exit", "/projects/abc/exit",
                f"/projects/{project.id}/exit/refunds/99999999999/file", f"/projects/{project.id}/exit/refunds/1/file"):
        assert client.get(bad).status_code == 404, bad


def test_receipt_of_another_project_is_404(client, world):
    project, staff, finance, member = world
    services.terminate(project, reason_kind="breach", detail="违约", by=staff)
    from tests.projects.exits.helpers import stored_receipt

    services.record_refund(services.settlement_of(project), amount=Decimal("1.00"), received_on=TODAY,
                           voucher_no="TK-1", file=stored_receipt(finance), by=finance)
    other, other_staff, _ = in_progress()
    other_member = make_member(other.org)
    _db.session.commit()
    receipt = _db.session.scalar(select(RefundReceipt))
    login_as(client, other_member)
    assert client.get(f"/projects/{other.id}/exit/refunds/{receipt.id}/file").status_code == 404
    assert client.get(_url(project, f"/refunds/{receipt.id}/file")).status_code == 404


# ---------------------------------------------------------------- /staff/exits

def test_staff_list_filters_scope_and_pagination(client, db):
    from tests.applications.helpers import make_org

    finance = make_user(Role.FINANCE)
    district_a, district_b = make_district(), make_district()
    first = None
    for i in range(23):
        project, staff, _ = in_progress(finance=finance, org=make_org(district=district_a if i == 0 else district_b))
        if i == 0:
            first = (project, staff)
        services.terminate(project, reason_kind="breach" if i % 2 else "org_request", detail="违约", by=staff)
    closed, cstaff, _ = fully_paid(finance=finance, org=make_org(district=district_b))
    verified_expense(closed, "100000.00")
    services.close(closed, by=cstaff)
    _db.session.commit()
    login_as(client, finance)
    text = _text(client.get("/staff/exits"))
    assert "共 23 条，第 1/2 页" in text and "尚未退回合计" in text and "¥1,150,000.00" in text
    assert closed.number not in text
    assert "共 23 条，第 2/2 页" in _text(client.get("/staff/exits?page=2"))
    assert closed.number in _text(client.get("/staff/exits?status=settled"))
    assert "共 11 条" in _text(client.get("/staff/exits?reason=breach"))
    text = _text(client.get(f"/staff/exits?q={first[0].number}"))
    assert first[0].number in text and "data-testid=\"exit-count\">1<" in client.get(
        f"/staff/exits?q={first[0].number}").get_data(as_text=True)
    for junk in ("?q=' OR 1=1--", "?status=<script>", "?page=abc", "?page=99999999999", "?kind=x&reason=%00"):
        assert client.get("/staff/exits" + junk).status_code == 200, junk
    assert "没有符合条件" in _text(client.get("/staff/exits?q=' OR 1=1--"))
    # district staff see only their district's
    login_as(client, first[1])
    html = client.get("/staff/exits").get_data(as_text=True)
    assert first[0].number in html and 'data-testid="exit-count">1<' in html
    login_as(client, make_user(Role.STAFF, district=make_district()))
    assert "目前没有待退款的项目" in _text(client.get("/staff/exits"))


def test_staff_list_query_count_is_constant(client, db):
    from sqlalchemy import event

    finance = make_user(Role.FINANCE)

    district = make_district()

    def count_queries(n):
        from tests.applications.helpers import make_org

        for _ in range(n):
            project, staff, _ = in_progress(finance=finance, org=make_org(district=district))
            services.terminate(project, reason_kind="breach", detail="违约", by=staff)
        _db.session.commit()
        login_as(client, finance)
        seen = []
        listener = lambda *a, **k: seen.append(1)  # noqa: E731
        event.listen(_db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/staff/exits?status=all").status_code == 200
        finally:
            event.remove(_db.engine, "before_cursor_execute", listener)
        return len(seen)

    few = count_queries(2)
    many = count_queries(8)
    assert many == few


def test_org_and_finance_see_an_open_project_read_only(client, world):
    project, staff, finance, member = world
    for user in (member, finance, make_user(Role.ADMIN)):
        login_as(client, user)
        resp = client.get(_url(project))
        assert resp.status_code == 200
        text = _text(resp)
        assert "项目尚未结项或终止" in text and "¥50,000.00" in text and "¥30,000.00" in text
        assert "<form" not in resp.get_data(as_text=True).split('data-testid="exit-page"')[1]
