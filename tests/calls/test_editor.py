"""The staff call editor: create, edit, bad input, mass assignment, optimistic locking."""
from __future__ import annotations

import html
from decimal import Decimal

import pytest
from sqlalchemy import text

from incubator.accounts.models import Role
from incubator.calls import services
from incubator.calls.models import BudgetCategory, Call, CallKind, FieldKind
from incubator.core.audit import AuditLog
from incubator.extensions import db as _db
from tests.calls.helpers import make_call, valid_form
from tests.conftest import login_as
from tests.factories import make_user


def _calls():
    return _db.session.scalars(_db.select(Call).order_by(Call.id)).all()


def _audit(action):
    return _db.session.scalars(_db.select(AuditLog).where(AuditLog.action == action)).all()


def test_staff_creates_a_call_with_rows(client, staff):
    login_as(client, staff)
    r = client.post("/staff/calls/new", data=valid_form(grant_min="１２３", fund_pool="2,000,000.00"))
    assert r.status_code == 302, r.get_data(as_text=True)
    (call,) = _calls()
    assert call.kind == CallKind.MICRO_VENTURE and call.district_id is None
    assert call.published_at is None  # a draft until published
    assert call.grant_min == Decimal("123.00")  # full-width digits normalised
    assert call.fund_pool == Decimal("2000000.00")  # correct thousands separators accepted
    assert call.grant_max == Decimal("100000.00")
    assert call.max_grant_share == Decimal("60.00")
    assert call.notice == "各县区民政局、各社会组织：\n为培育发展社会组织……"
    assert {c.category: c.max_share for c in call.budget_caps} == {
        BudgetCategory.PERSONNEL: Decimal("30.00"), BudgetCategory.MANAGEMENT: Decimal("10.00")}
    assert [(f.label, f.kind, f.required) for f in call.fields] == [
        ("项目实施社区", FieldKind.TEXT, True), ("服务对象类别", FieldKind.CHOICE, False)]
    assert call.fields[1].choices == ["老年人", "儿童", "残疾人"]
    assert [(a.name, a.allowed_extensions) for a in call.attachment_types] == [("登记证书副本", ["pdf", "jpg"])]
    assert call.themes == ["elderly", "youth"]
    assert call.created_by_id == staff.id
    (row,) = _audit("call.create")
    assert row.actor_id == staff.id and row.after["title"] == call.title
    # Beijing 09:00 typed → stored 01:00 UTC
    from incubator.db import to_local
    assert to_local(call.opens_at).strftime("%H:%M") == valid_form()["opens_at"][-5:]


BAD_AMOUNTS = [
    ("NaN", "格式不正确"),
    ("Infinity", "格式不正确"),
    ("1e309", "格式不正确"),
    ("-0.01", "不能为负数"),
    ("0.001", "最多保留两位小数"),
    ("12345678901234567890", "数值过大"),
    ("1,00", "千分位逗号位置不正确"),
    ("abc", "格式不正确"),
    ("1\x00", "非法字符"),
]


@pytest.mark.parametrize("amount, message", BAD_AMOUNTS)
def test_bad_amounts_are_refused_in_chinese_and_kept(client, staff, amount, message):
    login_as(client, staff)
    r = client.post("/staff/calls/new", data=valid_form(grant_max=amount))
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "资助上限" + message in body or message in body
    assert "内容未保存" in body
    if "\x00" not in amount:
        assert f'value="{html.escape(amount)}"' in body  # the form keeps what was typed
    assert 'value="2026年洛阳市公益微创投大赛项目申报通知"' in body  # and everything else
    assert _calls() == []


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("opens_at", "2026-02-30T09:00", "2026年2月30日不存在"),
        ("closes_at", "0001-01-01T00:00", "年份应在2000年至2100年之间"),
        ("opens_at", "not a date", "格式不正确"),
        ("max_grant_share", "120", "不能超过100%"),
        ("max_grant_share", "0", "不能小于1%"),
        ("max_applications_per_org", "0", "不能小于1"),
        ("max_applications_per_org", "5.5", "必须是整数"),
        ("year", "0001", "不能小于2000"),
        ("title", "", "请填写通知标题"),
        ("title", "a\r\nb", "请不要在此处换行"),
        ("kind", "lottery", "不是有效的选择"),
        ("caps-0-max_share", "", "请填写比例上限"),
        ("fields-1-choices", "只有一个", "单选题至少需要两个选项"),
    ],
)
def test_bad_values_are_refused(client, staff, field, value, message):
    login_as(client, staff)
    r = client.post("/staff/calls/new", data=valid_form(**{field: value}))
    assert r.status_code == 422
    assert message in r.get_data(as_text=True)
    assert _calls() == []


def test_close_before_open_and_grant_range(client, staff):
    from tests.calls.helpers import local_input

    login_as(client, staff)
    r = client.post("/staff/calls/new", data=valid_form(opens_at=local_input(days=5), closes_at=local_input(days=4)))
    assert r.status_code == 422 and "截止时间必须晚于开始时间" in r.get_data(as_text=True)
    r = client.post("/staff/calls/new", data=valid_form(grant_min="5000", grant_max="4000"))
    assert r.status_code == 422 and "资助上限不能低于资助下限" in r.get_data(as_text=True)
    r = client.post("/staff/calls/new", data=valid_form(fund_pool="50000", grant_max="60000"))
    assert r.status_code == 422 and "不能超过资金池总额" in r.get_data(as_text=True)
    assert _calls() == []


def test_close_time_in_the_past_saves_a_draft_with_a_warning_but_cannot_publish(client, staff):
    from tests.calls.helpers import local_input

    login_as(client, staff)
    r = client.post("/staff/calls/new", data=valid_form(opens_at=local_input(days=-10), closes_at=local_input(days=-1)),
                    follow_redirects=True)
    assert "截止时间早于当前时间" in r.get_data(as_text=True)
    (call,) = _calls()
    r = client.post(f"/staff/calls/{call.id}/publish", follow_redirects=True)
    assert "截止时间已过，不能发布" in r.get_data(as_text=True)
    _db.session.refresh(call)
    assert call.published_at is None


def test_extra_posted_fields_change_nothing(client, staff, districts):
    other = make_user(Role.STAFF)
    login_as(client, staff)
    r = client.post(
        "/staff/calls/new",
        data=valid_form(status="archived", district_id=str(districts[0].id), org_id="1", is_admin="1",
                        created_by_id=str(other.id), published_at="2026-01-01T00:00", archived_at="2026-01-01",
                        amount="999"),
    )
    assert r.status_code == 302
    (call,) = _calls()
    assert call.district_id is None
    assert call.created_by_id == staff.id
    assert call.published_at is None and call.archived_at is None
    assert _db.session.get(type(staff), staff.id).role == Role.STAFF


def test_district_staff_can_only_choose_their_own_district(client, staff_a, districts):
    login_as(client, staff_a)
    page = client.get("/staff/calls/new").get_data(as_text=True)
    assert "甲区" in page and "乙区" not in page and "全市（市级通知）" not in page
    for scope in ("city", str(districts[1].id)):
        r = client.post("/staff/calls/new", data=valid_form(scope=scope))
        assert r.status_code == 422 and "不是有效的选择" in r.get_data(as_text=True)
    assert _calls() == []
    r = client.post("/staff/calls/new", data=valid_form(scope=str(districts[0].id), district_orgs_only="y"))
    assert r.status_code == 302
    (call,) = _calls()
    assert call.district_id == districts[0].id and call.district_orgs_only


def test_district_staff_never_reach_another_districts_call(client, staff_a, staff_b, districts):
    call_b = make_call(district=districts[1], title="乙区养老服务项目申报通知")
    draft_b = make_call(district=districts[1], published=False, title="乙区草稿")
    call_a = make_call(district=districts[0], title="甲区社区治理项目申报通知")
    city = make_call(title="全市公益创投通知")
    _db.session.commit()
    login_as(client, staff_a)
    listing = client.get("/staff/calls").get_data(as_text=True)
    assert "甲区社区治理项目申报通知" in listing
    assert "乙区" not in listing.replace("乙区</option>", "") and "全市公益创投通知" not in listing
    for q in ("乙区", "养老", str(call_b.id), "' OR 1=1--", "%"):
        body = client.get("/staff/calls", query_string={"q": q}).get_data(as_text=True)
        assert "乙区养老服务项目申报通知" not in body
    body = client.get("/staff/calls", query_string={"scope": str(districts[1].id)}).get_data(as_text=True)
    assert "乙区养老服务项目申报通知" not in body
    # counts show only district A's calls
    counts = services.staff_status_counts(staff_a, services.StaffFilters())
    assert sum(counts.values()) == 1
    for target in (call_b, draft_b, city):
        assert client.get(f"/staff/calls/{target.id}").status_code == 404
        assert client.get(f"/staff/calls/{target.id}/edit").status_code == 404
        assert client.post(f"/staff/calls/{target.id}/edit", data=valid_form(scope=str(districts[0].id))).status_code == 404
        assert client.post(f"/staff/calls/{target.id}/archive").status_code == 404
    assert client.post(f"/staff/calls/{draft_b.id}/publish").status_code == 404
    _db.session.refresh(draft_b)
    assert draft_b.published_at is None and draft_b.district_id == districts[1].id
    assert client.get(f"/staff/calls/{call_a.id}").status_code == 200


def test_edit_keeps_row_ids_reorders_and_removes(client, staff):
    login_as(client, staff)
    client.post("/staff/calls/new", data=valid_form())
    (call,) = _calls()
    f0, f1 = call.fields
    data = valid_form(version_id=str(call.version_id), title="改后的标题")
    # reorder: the choice field first, the text field removed; a new field added; a cap removed
    data.update({
        "fields-0-row_id": str(f1.id), "fields-0-label": "服务对象类别", "fields-0-kind": "choice",
        "fields-0-choices": "老年人\n儿童",
        "fields-1-row_id": "", "fields-1-label": "新字段", "fields-1-kind": "date", "fields-1-choices": "",
        "caps-1-category": "", "caps-1-max_share": "",
        "caps-0-max_share": "25",
    })
    data.pop("fields-0-required")
    r = client.post(f"/staff/calls/{call.id}/edit", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)
    _db.session.expire_all()
    call = _db.session.get(Call, call.id)
    assert call.title == "改后的标题"
    assert [(f.id == f1.id, f.label, f.position) for f in call.fields] == [(True, "服务对象类别", 0), (False, "新字段", 1)]
    assert call.fields[0].choices == ["老年人", "儿童"]
    assert {c.category: c.max_share for c in call.budget_caps} == {BudgetCategory.PERSONNEL: Decimal("25.00")}
    (row,) = _audit("call.update")
    assert row.before["title"] == "2026年洛阳市公益微创投大赛项目申报通知" and row.after["title"] == "改后的标题"
    assert call.version_id == 2


def test_second_save_of_the_same_version_is_a_conflict(client, app, staff):
    other = make_user(Role.STAFF, name="另一位工作人员")
    login_as(client, staff)
    client.post("/staff/calls/new", data=valid_form())
    (call,) = _calls()
    opened_at = str(call.version_id)  # both editors opened version 1
    other_client = app.test_client()
    login_as(other_client, other)
    r = other_client.post(f"/staff/calls/{call.id}/edit", data=valid_form(version_id=opened_at, title="对方先保存的标题"))
    assert r.status_code == 302
    r = client.post(f"/staff/calls/{call.id}/edit", data=valid_form(version_id=opened_at, title="我后保存的标题"))
    body = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "其他工作人员已修改并保存了这份申报通知" in body
    assert 'value="我后保存的标题"' in body  # what I typed is still on the page
    _db.session.expire_all()
    assert _db.session.get(Call, call.id).title == "对方先保存的标题"


def test_concurrent_write_between_read_and_flush_is_a_conflict(db, staff):
    call = make_call(published=False)
    db.session.commit()
    form_version = call.version_id
    # another process saves the row after we loaded it
    db.session.execute(text("UPDATE \"call\" SET version_id = version_id + 1, title = '别人' WHERE id = :id"), {"id": call.id})
    data = services.CallData(
        kind=call.kind, year=call.year, title="我的", notice="正文", district_id=None, opens_at=call.opens_at,
        closes_at=call.closes_at, fund_pool=call.fund_pool, grant_max=call.grant_max,
    )
    with pytest.raises(services.CallConflict) as exc:
        services.update_call(call, by=staff, data=data, expected_version=form_version)
    assert "其他工作人员已修改" in exc.value.message


def test_published_call_locks_kind_year_and_scope(client, staff, districts):
    call = make_call()
    _db.session.commit()
    login_as(client, staff)
    from incubator.calls.forms import form_data_from_call
    from tests.calls.helpers import local_input

    base = valid_form(version_id=str(call.version_id), opens_at=local_input(days=-1), closes_at=local_input(days=10))
    r = client.post(f"/staff/calls/{call.id}/edit", data=dict(base, kind="purchase"))
    assert r.status_code == 422 and "不能修改类型、年度和发布范围" in r.get_data(as_text=True)
    r = client.post(f"/staff/calls/{call.id}/edit", data=dict(base, closes_at=local_input(days=-1, hours=1)))
    assert r.status_code == 422
    assert form_data_from_call(call)["scope"] == "city"


def test_publish_unpublish_archive(client, staff, monkeypatch):
    call = make_call(published=False)
    _db.session.commit()
    login_as(client, staff)
    r = client.post(f"/staff/calls/{call.id}/publish", follow_redirects=True)
    assert "申报通知已发布" in r.get_data(as_text=True)
    _db.session.refresh(call)
    assert call.published_at is not None
    assert _audit("call.publish")[0].object_id == call.id
    # open now: cannot archive
    r = client.post(f"/staff/calls/{call.id}/archive", follow_redirects=True)
    assert "申报期内" in r.get_data(as_text=True)
    # with applications it cannot be withdrawn
    monkeypatch.setattr(services, "application_count", lambda c: 3)
    r = client.post(f"/staff/calls/{call.id}/unpublish", follow_redirects=True)
    assert "已有3份申报书，不能撤回发布" in r.get_data(as_text=True)
    monkeypatch.setattr(services, "application_count", lambda c: 0)
    r = client.post(f"/staff/calls/{call.id}/unpublish", follow_redirects=True)
    assert "已撤回发布" in r.get_data(as_text=True)
    _db.session.refresh(call)
    assert call.published_at is None
    r = client.post(f"/staff/calls/{call.id}/archive", follow_redirects=True)
    assert "已归档" in r.get_data(as_text=True)
    _db.session.refresh(call)
    assert call.archived_at is not None
    assert client.get(f"/staff/calls/{call.id}/edit").status_code == 302
    assert client.post(f"/staff/calls/{call.id}/edit", data=valid_form()).status_code == 302
    assert [a.action for a in _db.session.scalars(_db.select(AuditLog).where(AuditLog.object_type == "Call").order_by(AuditLog.id))] == [
        "call.publish", "call.unpublish", "call.archive"]


def test_list_filters_search_and_counts(client, staff, districts):
    from datetime import timedelta

    from incubator.db import utcnow

    now = utcnow()
    make_call(title="开放中的微创投")
    make_call(title="草稿通知", published=False)
    make_call(title="已截止的购买服务", kind=CallKind.PURCHASE, opens_at=now - timedelta(days=20), closes_at=now - timedelta(days=1))
    make_call(title="甲区孵化", kind=CallKind.INCUBATION, district=districts[0], year=2025)
    _db.session.commit()
    login_as(client, staff)
    body = client.get("/staff/calls").get_data(as_text=True)
    for title in ("开放中的微创投", "草稿通知", "已截止的购买服务", "甲区孵化"):
        assert title in body
    assert "全部 <span class=\"badge text-bg-light\">4</span>" in body
    body = client.get("/staff/calls?status=closed").get_data(as_text=True)
    assert "已截止的购买服务" in body and "开放中的微创投" not in body
    body = client.get("/staff/calls?status=draft").get_data(as_text=True)
    assert "草稿通知" in body and "开放中的微创投" not in body
    body = client.get("/staff/calls?kind=incubation").get_data(as_text=True)
    assert "甲区孵化" in body and "草稿通知" not in body
    body = client.get("/staff/calls?year=2025").get_data(as_text=True)
    assert "甲区孵化" in body and "草稿通知" not in body
    body = client.get("/staff/calls?scope=city").get_data(as_text=True)
    assert "甲区孵化" not in body and "草稿通知" in body
    body = client.get("/staff/calls?q=微创投").get_data(as_text=True)
    assert "开放中的微创投" in body and "草稿通知" not in body
    for junk in ("status=bogus", "kind=%27", "year=abc", "page=-1", "page=99999999999", "q=%27+OR+1%3D1--"):
        assert client.get(f"/staff/calls?{junk}").status_code == 200


def test_list_query_count_does_not_grow_with_rows(client, staff, districts):
    from sqlalchemy import event

    login_as(client, staff)

    def count_queries():
        _db.session.commit()
        _db.session.expire_all()
        n = [0]

        def before(*a, **k):
            n[0] += 1

        event.listen(_db.engine, "before_cursor_execute", before)
        try:
            assert client.get("/staff/calls").status_code == 200
        finally:
            event.remove(_db.engine, "before_cursor_execute", before)
        return n[0]

    for i in range(2):
        make_call(district=districts[i % 2])
    _db.session.commit()
    few = count_queries()
    for i in range(15):
        make_call(district=districts[i % 2])
    _db.session.commit()
    assert count_queries() == few


def test_non_staff_are_refused(client, db):
    from tests.factories import make_org

    org = make_org()
    applicant = make_user(Role.APPLICANT, org=org)
    login_as(client, applicant)
    assert client.get("/staff/calls").status_code == 403
    assert client.post("/staff/calls/new", data=valid_form()).status_code == 403
    assert _calls() == []
