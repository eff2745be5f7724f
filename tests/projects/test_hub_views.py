"""The projects hub pages: lists and scope, 立项 forms (good and bad input), overview, tranches and the
payment flow through the views, the finance queue and the staff desk."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from incubator.accounts.models import Role
from incubator.db import today_local
from incubator.extensions import db as _db
from incubator.projects import services
from incubator.projects.desk import collect
from incubator.projects.models import PaymentStatus, Project, ProjectKind, TrancheCondition, TrancheStatus
from tests.conftest import login_as
from tests.factories import make_district, make_user
from tests.projects.helpers import END, funded_application, launch, make_member, make_org, scheduled, staff_for

C = TrancheCondition
TODAY = today_local()


def _login(client, user):
    _db.session.commit()
    login_as(client, user)


def _purchase_form(org, **overrides):
    data = {
        "org_id": str(org.id), "title": "社区居家养老服务", "purchasing_department": "洛阳市西工区民政局",
        "service_content": "助餐、探访、健康讲座", "quantity": "服务老人200名", "quality_standard": "满意度≥90%",
        "term_start": "2026-03-01", "term_end": "2027-02-28", "term_reason": "", "amount": "100000.00",
        "budget_line": "2026年社区服务专项资金", "budget_year": "2026", "prior_assessment": "必要、可行",
    }
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- lists


def test_staff_list_searches_filters_and_keeps_district_scope(client, db):
    d1, d2 = make_district(), make_district()
    p1 = launch(make_org(district=d1, name="阳光社工服务中心"), title="助老项目甲")
    p2 = launch(make_org(district=d2, name="夕阳红养老服务中心"), title="助老项目乙")
    staff = make_user(Role.STAFF, district=d1)
    _login(client, staff)
    page = client.get("/staff/projects/").get_data(as_text=True)
    assert p1.number in page and p2.number not in page
    city = make_user(Role.STAFF)
    _login(client, city)
    page = client.get("/staff/projects/").get_data(as_text=True)
    assert p1.number in page and p2.number in page
    page = client.get(f"/staff/projects/?q=夕阳红&district={d2.id}").get_data(as_text=True)
    assert p2.number in page and p1.number not in page
    page = client.get(f"/staff/projects/?q={p1.number}").get_data(as_text=True)
    assert p1.number in page and p2.number not in page
    page = client.get("/staff/projects/?status=closed").get_data(as_text=True)
    assert "没有符合条件的项目" in page
    page = client.get("/staff/projects/?kind=grant&year=2026").get_data(as_text=True)
    assert p1.number not in page
    # hostile filters are inert
    for q in ("' OR 1=1--", "%", "_", "abc&year=abc&district=99999999999&page=-1&status=x"):
        assert client.get(f"/staff/projects/?q={q}").status_code == 200


def test_staff_list_empty_state_and_pagination(client, db):
    staff = make_user(Role.STAFF)
    _login(client, staff)
    assert "还没有立项的项目" in client.get("/staff/projects/").get_data(as_text=True)
    org = make_org()
    by = staff_for(org)
    for i in range(23):
        launch(org, by=by, title=f"项目{i:02d}")
    _db.session.commit()
    page = client.get("/staff/projects/").get_data(as_text=True)
    assert "共 23 条" in page and "下一页" in page
    assert "项目00" in client.get("/staff/projects/?page=2").get_data(as_text=True)


def test_list_queries_do_not_grow_with_rows(client, db, app):
    from sqlalchemy import event

    staff = make_user(Role.STAFF)
    org = make_org()
    for i in range(3):
        scheduled(org=org, title=f"项目{i}")
    _login(client, staff)
    counts = []

    def count(*_a, **_k):
        counts[-1] += 1

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        counts.append(0)
        client.get("/staff/projects/")
        for i in range(10):
            scheduled(org=org, title=f"更多{i}")
        _db.session.commit()
        counts.append(0)
        client.get("/staff/projects/")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert counts[1] <= counts[0] + 1


def test_an_organisation_sees_only_its_own_projects(client, db):
    mine = launch(title="本组织项目")
    other = launch(title="他组织项目")
    member = make_member(mine.org)
    _login(client, member)
    page = client.get("/my/projects").get_data(as_text=True)
    assert mine.number in page and other.number not in page
    assert client.get(f"/projects/{mine.id}").status_code == 200
    assert client.get(f"/projects/{other.id}").status_code == 404
    assert client.get(f"/projects/{other.id}/tranches").status_code == 404
    assert client.get("/staff/projects/").status_code == 403
    assert client.get("/finance/payments").status_code == 403


def test_org_with_no_project_sees_an_empty_state(client, db):
    member = make_member(make_org())
    _login(client, member)
    assert "本组织还没有立项的项目" in client.get("/my/projects").get_data(as_text=True)


# --------------------------------------------------------------------------- 立项 from an application


def test_launch_from_a_funded_application_prefills_and_creates_the_schedule(client, db):
    app = funded_application(amount="36000.00")
    staff = staff_for(app.org)
    _login(client, staff)
    page = client.get(f"/staff/applications/{app.id}/launch").get_data(as_text=True)
    assert "36000.00" in page and app.title in page and "确认立项" in page
    form = _purchase_form(app.org, title=app.title, amount="36000.00")
    form.pop("org_id")
    r = client.post(f"/staff/applications/{app.id}/launch", data=form)
    assert r.status_code == 302
    project = _db.session.scalar(select(Project).where(Project.application_id == app.id))
    assert project.kind == ProjectKind.GRANT and project.amount == Decimal("36000.00")
    assert [t.share for t in project.tranches] == [Decimal(50), Decimal(30), Decimal(20)]
    assert [t.amount for t in project.tranches] == [Decimal("18000.00"), Decimal("10800.00"), Decimal("7200.00")]
    # once only: the launch page now leads to the project
    r = client.get(f"/staff/applications/{app.id}/launch")
    assert r.status_code == 302 and f"/projects/{project.id}" in r.headers["Location"]
    # the staff application page links to the project
    from incubator.db import utcnow

    app.submitted_at = utcnow()
    _db.session.commit()
    assert project.number in client.get(f"/staff/applications/{app.id}").get_data(as_text=True)


def test_the_staff_application_page_offers_launch_for_a_funded_application(client, db):
    from incubator.db import utcnow

    app = funded_application()
    app.submitted_at = utcnow()
    _login(client, staff_for(app.org))
    page = client.get(f"/staff/applications/{app.id}").get_data(as_text=True)
    assert f"/staff/applications/{app.id}/launch" in page


def test_launch_uses_the_calls_tranche_plan(client, db):
    app = funded_application(amount="10000.00")
    app.call.tranche_plan = [["60", "on_signing"], ["40", "on_final_acceptance"]]
    staff = staff_for(app.org)
    _login(client, staff)
    form = _purchase_form(app.org, amount="10000.00")
    form.pop("org_id")
    assert client.post(f"/staff/applications/{app.id}/launch", data=form).status_code == 302
    project = _db.session.scalar(select(Project).where(Project.application_id == app.id))
    assert [(t.share, t.condition) for t in project.tranches] == [(Decimal(60), C.ON_SIGNING),
                                                                   (Decimal(40), C.ON_FINAL_ACCEPTANCE)]


def test_launch_refuses_more_than_the_grant_and_keeps_input(client, db):
    app = funded_application(amount="36000.00")
    _login(client, staff_for(app.org))
    form = _purchase_form(app.org, amount="50000.00", title="我输入的标题")
    form.pop("org_id")
    r = client.post(f"/staff/applications/{app.id}/launch", data=form)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "不能超过确定的资助金额" in page and "我输入的标题" in page and "50000.00" in page
    assert _db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_launch_of_an_application_not_funded_is_refused(client, db):
    from incubator.applications.models import ApplicationStatus

    app = funded_application(status=ApplicationStatus.PUBLICIZED)
    _login(client, staff_for(app.org))
    form = _purchase_form(app.org)
    form.pop("org_id")
    r = client.post(f"/staff/applications/{app.id}/launch", data=form)
    assert r.status_code == 422 and "只有已确定资助的申报项目才能立项" in r.get_data(as_text=True)


def test_launch_scope(client, db):
    app = funded_application()
    other_staff = make_user(Role.STAFF, district=make_district())
    _login(client, other_staff)
    assert client.get(f"/staff/applications/{app.id}/launch").status_code == 404
    assert client.get("/staff/applications/99999999999/launch").status_code == 404
    _login(client, make_user(Role.FINANCE))
    assert client.get(f"/staff/applications/{app.id}/launch").status_code == 403


# --------------------------------------------------------------------------- 立项 of a purchase


def test_new_purchase_lists_verified_suppliers_in_scope_and_launches(client, db):
    d = make_district()
    org = make_org(district=d, name="阳光社工服务中心")
    elsewhere = make_org(district=make_district(), name="别区组织")
    staff = make_user(Role.STAFF, district=d)
    _login(client, staff)
    page = client.get("/staff/projects/new?q=阳光").get_data(as_text=True)
    assert "阳光社工服务中心" in page and "别区组织" not in page
    r = client.post("/staff/projects/new", data=_purchase_form(org))
    assert r.status_code == 302
    project = _db.session.scalar(select(Project))
    assert project.kind == ProjectKind.PURCHASE and project.org_id == org.id
    assert project.budget_line == "2026年社区服务专项资金" and len(project.tranches) == 3
    # another district's organisation cannot be chosen
    r = client.post("/staff/projects/new", data=_purchase_form(elsewhere))
    assert r.status_code == 422
    assert _db.session.scalar(select(func.count()).select_from(Project)) == 1


@pytest.mark.parametrize("overrides, message", [
    ({"amount": "1e5"}, "立项金额格式不正确"),
    ({"amount": "NaN"}, "立项金额格式不正确"),
    ({"amount": "-100"}, "立项金额不能小于"),
    ({"amount": "0.001"}, "最多保留两位小数"),
    ({"amount": "100.123"}, "最多保留两位小数"),
    ({"amount": "123456789012345678901"}, "数值过大"),
    ({"amount": ""}, "请填写立项金额"),
    ({"budget_line": ""}, "预算未批复不得立项"),
    ({"budget_year": "abc"}, "预算年度"),
    ({"term_end": "2030-03-01", "term_reason": "服务稳定"}, "不得超过3年"),
    ({"term_end": "2028-02-28"}, "须说明理由"),
    ({"term_end": "2026-02-01"}, "结束日期不能早于开始日期"),
    ({"term_start": "2026-02-30"}, "不是有效的日期"),
    ({"term_start": "0001-01-01"}, "年份应在2000年至2100年之间"),
    ({"title": ""}, "请填写项目名称"),
    ({"title": "a\x00b"}, "非法字符"),
    ({"org_id": ""}, "请选择承接主体"),
    ({"org_id": "99999999999"}, "承接主体"),
])
def test_new_purchase_bad_inputs_are_refused_with_422_and_keep_input(client, db, overrides, message):
    org = make_org()
    _login(client, staff_for(org))
    data = _purchase_form(org, quantity="我填写的数量", **overrides)
    r = client.post("/staff/projects/new", data=data)
    assert r.status_code == 422, r.status_code
    page = r.get_data(as_text=True)
    assert message in page
    assert "我填写的数量" in page
    assert _db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_three_year_term_with_a_reason_is_accepted(client, db):
    org = make_org()
    _login(client, staff_for(org))
    r = client.post("/staff/projects/new", data=_purchase_form(org, term_end="2029-02-28", term_reason="服务内容稳定，预算有保障"))
    assert r.status_code == 302
    assert _db.session.scalar(select(Project)).term_reason == "服务内容稳定，预算有保障"


def test_mass_assignment_is_ignored(client, db):
    org = make_org()
    _login(client, staff_for(org))
    r = client.post("/staff/projects/new", data=_purchase_form(org, status="closed", number="XM-HACK", kind="grant",
                                                               signed_on="2026-01-01"))
    assert r.status_code == 302
    p = _db.session.scalar(select(Project))
    assert (p.status.value, p.kind, p.signed_on) == ("launched", ProjectKind.PURCHASE, None)
    assert p.number != "XM-HACK"


def test_titles_are_escaped(client, db):
    org = make_org()
    _login(client, staff_for(org))
    xss = "<script>alert(1)</script><img src=x onerror=alert(1)>"
    assert client.post("/staff/projects/new", data=_purchase_form(org, title=xss)).status_code == 302
    p = _db.session.scalar(select(Project))
    for url in ("/staff/projects/", f"/projects/{p.id}", f"/projects/{p.id}/tranches"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_finance_and_admin_cannot_launch(client, db):
    org = make_org()
    for role in (Role.FINANCE, Role.ADMIN, Role.EVALUATOR):
        _login(client, make_user(role))
        assert client.post("/staff/projects/new", data=_purchase_form(org)).status_code == 403
    assert _db.session.scalar(select(func.count()).select_from(Project)) == 0


# --------------------------------------------------------------------------- overview


def test_overview_shows_all_launch_fields_history_and_paid_total(client, db):
    project, staff = scheduled(term_end=END.replace(year=END.year + 1), term_reason="服务稳定", prior_assessment="事前评估：必要")
    services.mark_condition_met(project, C.ON_SIGNING, by=staff, on=TODAY)
    _login(client, staff)
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    for text in (project.number, "洛阳市民政局", "为社区老人提供助餐、探访服务", "服务老人200名", "满意度≥90%",
                 "服务稳定", "社区服务专项资金", "2026年度", "事前评估：必要", "合同已签订", "已签约", "¥100,000.00",
                 "¥50,000.00", "分期拨付"):
        assert text in page, text
    assert "¥0.00" in page  # paid total


# --------------------------------------------------------------------------- tranches and payments


def test_schedule_can_be_set_through_the_tab_and_bad_shares_are_422(client, db):
    project = launch(amount="1000.00")
    staff = staff_for(project.org)
    _login(client, staff)
    page = client.get(f"/projects/{project.id}/tranches").get_data(as_text=True)
    assert "设置拨付计划" in page and "签约后" in page
    data = {"rows-0-share": "60", "rows-0-condition": "on_signing", "rows-1-share": "40",
            "rows-1-condition": "on_final_acceptance"}
    r = client.post(f"/projects/{project.id}/tranches/schedule", data=data)
    assert r.status_code == 302
    _db.session.expire_all()
    assert [t.amount for t in project.tranches] == [Decimal("600.00"), Decimal("400.00")]
    for bad, message in ((dict(data, **{"rows-1-share": "30"}), "之和必须等于100%"),
                         (dict(data, **{"rows-1-share": "40.001"}), "最多保留2位小数"),
                         (dict(data, **{"rows-1-share": "-40"}), "不能小于"),
                         (dict(data, **{"rows-1-condition": ""}), "请选择该期的拨付条件"),
                         (dict(data, **{"rows-1-condition": "whenever"}), "不是有效的选择"),
                         ({}, "请至少设置一期拨付")):
        r = client.post(f"/projects/{project.id}/tranches/schedule", data=bad)
        assert r.status_code == 422, bad
        assert message in r.get_data(as_text=True), message
    _db.session.expire_all()
    assert [t.amount for t in project.tranches] == [Decimal("600.00"), Decimal("400.00")]


def test_payment_flow_through_the_views(client, db):
    project, staff = scheduled(amount="100000.00")
    member = make_member(project.org)
    finance = make_user(Role.FINANCE)
    first = project.tranches[0]
    _login(client, member)
    page = client.get(f"/projects/{project.id}/tranches").get_data(as_text=True)
    assert "拨付条件“签约后”尚未满足" in page and "/request" not in page
    r = client.post(f"/projects/{project.id}/tranches/{first.id}/request")
    assert r.status_code == 409 and "尚未满足" in r.get_data(as_text=True)
    services.mark_condition_met(project, C.ON_SIGNING, by=staff, on=TODAY)
    _db.session.commit()
    assert "/request" in client.get(f"/projects/{project.id}/tranches").get_data(as_text=True)
    assert client.post(f"/projects/{project.id}/tranches/{first.id}/request").status_code == 302
    assert client.post(f"/projects/{project.id}/tranches/{first.id}/request").status_code == 409
    req = first.payment
    # the member and finance cannot approve as staff
    assert client.post(f"/projects/{project.id}/payments/{req.id}/approve").status_code == 403
    _login(client, finance)
    assert client.post(f"/projects/{project.id}/payments/{req.id}/approve").status_code == 403
    assert client.post(f"/projects/{project.id}/payments/{req.id}/pay",
                       data={f"pay{req.id}-paid_on": TODAY.isoformat(), f"pay{req.id}-voucher_no": "PZ-1"}).status_code == 409
    # staff approve
    _login(client, staff)
    assert client.post(f"/projects/{project.id}/payments/{req.id}/approve").status_code == 302
    assert client.post(f"/projects/{project.id}/payments/{req.id}/approve").status_code == 409
    # staff cannot pay
    assert client.post(f"/projects/{project.id}/payments/{req.id}/pay",
                       data={f"pay{req.id}-paid_on": TODAY.isoformat(), f"pay{req.id}-voucher_no": "PZ-1"}).status_code == 403
    # finance pays; bad input keeps what was typed
    _login(client, finance)
    assert "PZ-1" not in client.get("/finance/payments?state=paid").get_data(as_text=True)
    assert project.number in client.get("/finance/payments").get_data(as_text=True)
    r = client.post(f"/projects/{project.id}/payments/{req.id}/pay",
                    data={f"pay{req.id}-paid_on": TODAY.isoformat(), f"pay{req.id}-voucher_no": ""})
    assert r.status_code == 422 and "请填写付款凭证号" in r.get_data(as_text=True)
    r = client.post(f"/projects/{project.id}/payments/{req.id}/pay",
                    data={f"pay{req.id}-paid_on": "2099-01-01", f"pay{req.id}-voucher_no": "PZ-我的"})
    assert r.status_code == 422 and "拨付日期不能晚于今天" in r.get_data(as_text=True)
    assert "PZ-我的" in r.get_data(as_text=True)
    r = client.post(f"/projects/{project.id}/payments/{req.id}/pay",
                    data={f"pay{req.id}-paid_on": TODAY.isoformat(), f"pay{req.id}-voucher_no": "PZ-2026-001",
                          "back": "queue"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/finance/payments")
    _db.session.expire_all()
    assert req.status == PaymentStatus.PAID and first.status == TrancheStatus.PAID
    r = client.post(f"/projects/{project.id}/payments/{req.id}/pay",
                    data={f"pay{req.id}-paid_on": TODAY.isoformat(), f"pay{req.id}-voucher_no": "PZ-AGAIN"})
    assert r.status_code == 409 and "不能重复拨付" in r.get_data(as_text=True)
    page = client.get(f"/projects/{project.id}/tranches").get_data(as_text=True)
    assert "PZ-2026-001" in page and "¥50,000.00" in page
    assert "PZ-2026-001" in client.get("/finance/payments?state=paid").get_data(as_text=True)
    # finance sees the project read-only: no schedule form
    assert "保存拨付计划" not in page
    assert client.post(f"/projects/{project.id}/tranches/schedule", data={}).status_code == 403
    # the schedule is locked for staff too once a tranche is paid
    _login(client, staff)
    assert "保存拨付计划" not in client.get(f"/projects/{project.id}/tranches").get_data(as_text=True)
    r = client.post(f"/projects/{project.id}/tranches/schedule",
                    data={"rows-0-share": "100", "rows-0-condition": "on_signing"})
    assert r.status_code == 409 and "不能再调整拨付计划" in r.get_data(as_text=True)


def test_a_stopped_tranche_shows_its_reason(client, db):
    project, staff = scheduled()
    services.mark_condition_met(project, C.ON_SIGNING, by=staff, on=TODAY)
    services.record_midterm_failed(project, by=staff, on=TODAY)
    _login(client, staff)
    page = client.get(f"/projects/{project.id}/tranches").get_data(as_text=True)
    assert "已停止：中期评估不合格，停止拨付下一期资金" in page


def test_ids_of_another_project_are_404(client, db):
    p1, staff = scheduled()
    p2, _ = scheduled(org=p1.org, by=staff)
    services.mark_condition_met(p2, C.ON_SIGNING, by=staff, on=TODAY)
    req = services.request_payment(p2.tranches[0], by=staff)
    _login(client, staff)
    assert client.post(f"/projects/{p1.id}/tranches/{p2.tranches[0].id}/request").status_code == 404
    assert client.post(f"/projects/{p1.id}/payments/{req.id}/approve").status_code == 404
    assert client.get("/projects/99999999999").status_code == 404
    assert client.get("/projects/0/tranches").status_code == 404


def test_district_staff_of_another_district_get_404(client, db):
    project, _ = scheduled()
    _login(client, make_user(Role.STAFF, district=make_district()))
    assert client.get(f"/projects/{project.id}").status_code == 404
    assert client.post(f"/projects/{project.id}/tranches/schedule", data={}).status_code == 404


# --------------------------------------------------------------------------- desk and nav


def test_desk_items_by_role(client, db):
    project, staff = scheduled()
    app = funded_application(project.org)
    finance = make_user(Role.FINANCE)
    services.mark_condition_met(project, C.ON_SIGNING, by=staff, on=TODAY)
    req = services.request_payment(project.tranches[0], by=staff)
    _db.session.commit()
    with client.application.test_request_context():
        items = services.desk_items(staff)
        assert {i.area for i in items} == {"拨付审核", "待立项"}
        assert any(app.number in i.title for i in items)
        assert services.desk_items(finance) == []
        assert services.desk_items(make_user(Role.STAFF, district=make_district())) == []
        assert services.desk_items(make_member(project.org)) == []
    services.approve_by_staff(req, by=staff)
    _db.session.commit()
    with client.application.test_request_context():
        items = services.desk_items(finance)
        assert [i.area for i in items] == ["财务拨付"]
    _login(client, finance)
    page = client.get("/staff/desk").get_data(as_text=True)
    assert "财务拨付" in page and project.number in page
    assert "拨付审核" in page  # the nav entry
    _login(client, staff)
    page = client.get("/staff/desk").get_data(as_text=True)
    assert "待立项" in page and app.number in page


def test_desk_overdue_first_and_empty_state(client, db):
    from datetime import timedelta

    staff = make_user(Role.STAFF)
    _login(client, staff)
    assert "暂无待办事项" in client.get("/staff/desk").get_data(as_text=True)
    project, by = scheduled()
    services.mark_condition_met(project, C.ON_SIGNING, by=by, on=TODAY - timedelta(days=60))
    services.request_payment(project.tranches[0], by=by)
    _db.session.commit()
    with client.application.test_request_context():
        items = collect(staff)
    payments = [i for i in items if i.area == "拨付审核"]  # the other areas add their own items
    assert payments[0].overdue and "逾期" in payments[0].note
    assert all(i.overdue for i in items[:items.index(payments[0])])  # overdue items come first
    page = client.get("/staff/desk").get_data(as_text=True)
    assert "逾期" in page


def test_nav_entries_by_role(client, db):
    org = make_org()
    member = make_member(org)
    _login(client, member)
    assert "我的项目" in client.get("/my/projects").get_data(as_text=True)
    _login(client, make_user(Role.FINANCE))
    page = client.get("/finance/payments").get_data(as_text=True)
    assert "拨付审核" in page and "没有待拨付的申请" in page
    _login(client, make_user(Role.STAFF))
    page = client.get("/staff/projects/").get_data(as_text=True)
    assert "项目管理" in page and "工作台（待办）" in page


def test_finance_queue_and_desk_queries_do_not_grow_with_rows(client, db):
    from sqlalchemy import event

    finance = make_user(Role.FINANCE)
    org = make_org()
    staff = staff_for(org)

    def waiting_payment(i):
        project, _ = scheduled(org=org, by=staff, title=f"项目{i}")
        services.mark_condition_met(project, C.ON_SIGNING, by=staff, on=TODAY)
        services.approve_by_staff(services.request_payment(project.tranches[0], by=staff), by=staff)

    for i in range(2):
        waiting_payment(i)
    _login(client, finance)
    counts = []

    def count(*_a, **_k):
        counts[-1] += 1

    event.listen(_db.engine, "before_cursor_execute", count)
    try:
        for more in (0, 8):
            for i in range(more):
                waiting_payment(100 + i)
            _db.session.commit()
            counts.append(0)
            assert client.get("/finance/payments").status_code == 200
            counts.append(0)
            assert client.get("/staff/desk").status_code == 200
    finally:
        event.remove(_db.engine, "before_cursor_execute", count)
    assert counts[2] <= counts[0] + 1 and counts[3] <= counts[1] + 1, counts
