"""Expert pool pages: add/edit, list, status, declarations, the expert's own page, permissions and
the bad inputs of SECURITY.md (1, 6, 9, 10, 11, 13)."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import event

from incubator.accounts.models import Role, User
from incubator.core.audit import AuditLog
from incubator.db import today_local
from incubator.orgs.models import ServiceField
from incubator.pools.models import Expert, ExpertRelation, ExpertStatus, RelationKind
from tests.conftest import login_as
from tests.factories import make_district, make_org, make_user
from tests.pools.helpers import add_relation, add_unavailable, make_expert

XSS = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def form_data(**kw):
    data = {"name": "张明", "mobile": "13903791234", "email": "zhangming@haust.edu.cn", "title": "教授",
            "employer": "河南科技大学", "employer_uscc": "", "fields": ["elderly", "health"], "district": "0",
            "max_reviews_per_round": "8", "bio": "", "notes": ""}
    data.update(kw)
    return data


def as_user(app, user):
    c = app.test_client()
    login_as(c, user)
    return c


@pytest.fixture()
def city(db):
    return make_user(Role.STAFF, name="王民政")


@pytest.fixture()
def staff_client(app, db, city):
    db.session.commit()
    return as_user(app, city)


def text(r) -> str:
    return unescape(r.get_data(as_text=True))


# --- add and edit ---------------------------------------------------------------------------------


def test_add_expert(staff_client, db):
    d = make_district(name="洛龙区")
    org = make_org()
    db.session.commit()
    r = staff_client.post("/pools/experts/new", data=form_data(district=str(d.id), employer_uscc=org.uscc.lower()))
    assert r.status_code == 302
    e = db.session.scalar(db.select(Expert))
    assert (e.name, e.district_id, e.employer_org_id, e.max_reviews_per_round) == ("张明", d.id, org.id, 8)
    assert e.field_values == {ServiceField.ELDERLY, ServiceField.HEALTH}
    assert e.user.role == Role.EXPERT
    page = text(staff_client.get(r.headers["Location"]))
    assert "已将“张明”加入专家库" in page and "已关联名录：" + org.name in page


@pytest.mark.parametrize("field,value,message", [
    ("mobile", "1390379123", "请填写11位中国大陆手机号"),
    ("mobile", "", "请填写手机号"),
    ("email", "zhangming@", "邮箱格式不正确"),
    ("employer_uscc", "52410302MJ0000001X", "校验位不正确"),
    ("employer_uscc", "12345", "统一社会信用代码应为18位"),
    ("fields", [], "请至少选择一个专业领域"),
    ("fields", ["elderly", "pets"], "包含无效的选项"),
    ("max_reviews_per_round", "0", "不能小于1"),
    ("max_reviews_per_round", "5.5", "必须是整数"),
    ("max_reviews_per_round", "101", "不能超过100"),
    ("name", "", "请填写姓名"),
    ("employer", "", "请填写工作单位"),
    ("district", "99999", "请从列表中选择"),
    ("district", "abc", "请从列表中选择"),
])
def test_add_expert_validation_keeps_input(staff_client, db, field, value, message):
    r = staff_client.post("/pools/experts/new", data=form_data(**{field: value, "title": "特聘研究员"}))
    assert r.status_code == 422
    page = text(r)
    assert message in page
    assert 'value="特聘研究员"' in page  # what was typed stays
    assert db.session.scalar(db.select(db.func.count(Expert.id))) == 0


def test_add_duplicate_and_another_roles_email(staff_client, db):
    make_expert(mobile="13903791234")
    make_user(Role.APPLICANT, email="boss@org.cn", org=make_org())
    db.session.commit()
    r = staff_client.post("/pools/experts/new", data=form_data(email="new@x.cn"))
    assert r.status_code == 422 and "该手机号已在专家库中" in text(r)
    r = staff_client.post("/pools/experts/new", data=form_data(mobile="13900000001", email="Boss@Org.cn"))
    assert r.status_code == 422 and "该邮箱已被其他账号使用（社会组织用户）" in text(r)


@pytest.mark.parametrize("email", ["ZHANGMING@HAUST.EDU.CN", " zhangming@haust.edu.cn ", "ｚｈａｎｇｍｉｎｇ@haust.edu.cn",
                                   "zhang\u200bming@haust.edu.cn"])
def test_emails_that_look_the_same_are_the_same(staff_client, db, email):
    """SECURITY.md bad input 11."""
    make_expert(email="zhangming@haust.edu.cn", mobile="13700000000")
    db.session.commit()
    r = staff_client.post("/pools/experts/new", data=form_data(email=email))
    assert r.status_code == 422 and "该邮箱已在专家库中" in text(r)


@pytest.mark.parametrize("mobile", ["139 0379 1234", "+86 13903791234", "１３９０３７９１２３４", "139-0379-1234"])
def test_mobiles_that_look_the_same_are_the_same(staff_client, db, mobile):
    make_expert(email="a@x.cn", mobile="13903791234")
    db.session.commit()
    r = staff_client.post("/pools/experts/new", data=form_data(mobile=mobile, email="b@x.cn"))
    assert r.status_code == 422 and "该手机号已在专家库中" in text(r)


def test_extra_fields_change_nothing(staff_client, db):
    """SECURITY.md bad input 10: status, district_id, user_id, is_admin, org_id are never read."""
    other = make_user(Role.ADMIN)
    d = make_district()
    db.session.commit()
    extra = {"status": "removed", "district_id": str(d.id), "user_id": str(other.id), "is_admin": "1",
             "org_id": "1", "employer_org_id": "1", "amount": "100", "role": "admin"}
    r = staff_client.post("/pools/experts/new", data=form_data(**extra))
    assert r.status_code == 302
    e = db.session.scalar(db.select(Expert))
    assert e.status == ExpertStatus.ACTIVE and e.district_id is None and e.user_id != other.id
    assert e.employer_org_id is None and e.user.role == Role.EXPERT
    r = staff_client.post(f"/pools/experts/{e.id}/edit", data=form_data(**extra))
    assert r.status_code == 302
    db.session.refresh(e)
    assert e.status == ExpertStatus.ACTIVE and e.district_id is None and e.user_id != other.id


def test_line_breaks_are_removed_from_names(staff_client, db):
    """SECURITY.md bad input 13 (log injection)."""
    r = staff_client.post("/pools/experts/new", data=form_data(name="张\r\n明", employer="河南\r\n科技大学", title="教\n授"))
    assert r.status_code == 302
    e = db.session.scalar(db.select(Expert))
    assert (e.name, e.employer, e.title) == ("张 明", "河南 科技大学", "教 授")
    assert "\n" not in e.user.name
    for row in db.session.scalars(db.select(AuditLog)):
        assert "\n" not in (row.actor_label or "")


def test_ten_megabytes_and_two_thousand_fields(staff_client, db):
    r = staff_client.post("/pools/experts/new", data=form_data(bio="长" * (10 * 1024 * 1024 // 3)))
    assert r.status_code in (413, 422)
    data = form_data()
    data.update({f"extra{i}": "x" for i in range(2000)})
    r = staff_client.post("/pools/experts/new", data=data, content_type="multipart/form-data")
    assert r.status_code == 413
    assert db.session.scalar(db.select(db.func.count(Expert.id))) == 0
    r = staff_client.post("/pools/experts/new", data=form_data(name="张明\x00"))
    assert r.status_code == 422 and "控制字符" in text(r)


def test_edit_expert(staff_client, db):
    e = make_expert(name="张明", mobile="13903791234", email="zhangming@haust.edu.cn")
    db.session.commit()
    r = staff_client.get(f"/pools/experts/{e.id}/edit")
    assert r.status_code == 200 and 'value="zhangming@haust.edu.cn"' in text(r)
    r = staff_client.post(f"/pools/experts/{e.id}/edit", data=form_data(title="二级教授", email="zm@lit.edu.cn"))
    assert r.status_code == 302
    db.session.expire_all()
    e = db.session.get(Expert, e.id)
    assert e.title == "二级教授" and e.email == "zm@lit.edu.cn" and e.user.email == "zm@lit.edu.cn"


# --- SECURITY.md bad input 1: markup is shown as text everywhere ------------------------------------


def test_markup_is_escaped_on_every_page(staff_client, app, db):
    r = staff_client.post("/pools/experts/new",
                          data=form_data(name=XSS[:50], title=IMG[:50], employer=XSS, bio=IMG, notes=XSS))
    assert r.status_code == 302
    e = db.session.scalar(db.select(Expert))
    assert e.name == XSS
    staff = db.session.scalar(db.select(User).where(User.role == Role.STAFF))
    staff_client.post(f"/pools/experts/{e.id}/relations", data={"org_name": XSS, "kind": "other", "note": IMG})
    staff_client.post(f"/pools/experts/{e.id}/unavailable",
                      data={"start_on": today_local().isoformat(), "end_on": today_local().isoformat(), "note": IMG})
    assert staff is not None
    expert_client = as_user(app, e.user)
    for client, url in ((staff_client, "/pools/experts"), (staff_client, f"/pools/experts/{e.id}"),
                        (staff_client, f"/pools/experts/{e.id}/edit"), (expert_client, "/pools/me")):
        body = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in body and "<img src=x" not in body, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, url


# --- the list ---------------------------------------------------------------------------------------


def test_list_search_and_filters(staff_client, db):
    a, b = make_district(name="洛龙区"), make_district(name="西工区")
    e1 = make_expert(name="张慧敏", employer="洛阳师范学院", title="教授", mobile="13903790001",
                     fields=[ServiceField.YOUTH], district_id=a.id)
    e2 = make_expert(name="吴海涛", employer="洛诚会计师事务所", title="注册会计师", mobile="13903790002",
                     fields=[ServiceField.OTHER], district_id=b.id)
    e3 = make_expert(name="高峰", employer="民政局（退休）", title="科长", mobile="13903790003",
                     fields=[ServiceField.ELDERLY, ServiceField.YOUTH], status=ExpertStatus.SUSPENDED)
    db.session.commit()

    def names(query):
        r = staff_client.get("/pools/experts" + query)
        assert r.status_code == 200
        return set(re.findall(r'class="expert-name" href="/pools/experts/\d+">([^<]+)<', r.get_data(as_text=True)))

    assert names("") == {"张慧敏", "吴海涛", "高峰"}
    assert names("?q=张慧") == {"张慧敏"}
    assert names("?q=会计师事务所") == {"吴海涛"}
    assert names("?q=139 0379 0003") == {"高峰"}
    assert names("?field=youth") == {"张慧敏", "高峰"}
    assert names("?status=suspended") == {"高峰"}
    assert names("?status=active&field=youth") == {"张慧敏"}
    assert names(f"?district={b.id}") == {"吴海涛"}
    assert names("?title=会计") == {"吴海涛"}
    assert names("?q=%25") == set() and names("?q=_") == set()  # LIKE wildcards are literal
    # SECURITY.md bad input 6
    for q in ("?q=' OR 1=1--", "?field=' OR 1=1--", "?status=' OR 1=1--", "?district=' OR 1=1--",
              "?title=' OR 1=1--", "?sort=' OR 1=1--", "?page=' OR 1=1--", "?district=99999999999"):
        r = staff_client.get("/pools/experts" + q)
        assert r.status_code == 200, q
    assert names("?q=' OR 1=1--") == set()
    assert names("?field=' OR 1=1--") == {"张慧敏", "吴海涛", "高峰"}  # an unknown filter is dropped
    assert {e1.id, e2.id, e3.id}


def test_list_pagination_and_constant_queries(staff_client, db):
    d = make_district()
    for i in range(45):
        make_expert(district_id=d.id, fields=[ServiceField.ELDERLY, ServiceField.HEALTH])
    db.session.commit()
    r = staff_client.get("/pools/experts?page=3")
    assert r.status_code == 200 and "共 45 条，第 3/3 页" in text(r)

    def queries(url):
        statements = []
        listener = lambda *a: statements.append(a[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert staff_client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    small = queries("/pools/experts?per_page=1&page=3")
    full = queries("/pools/experts?page=1")
    assert full == small


def test_empty_list_says_what_to_do(staff_client, db):
    page = text(staff_client.get("/pools/experts"))
    assert "专家库中还没有专家" in page and "Excel 批量导入" in page


# --- status -----------------------------------------------------------------------------------------


def test_status_changes_from_the_detail_page(staff_client, app, db):
    e = make_expert(name="张明")
    db.session.commit()
    page = text(staff_client.get(f"/pools/experts/{e.id}"))
    assert 'data-confirm="确定暂停“张明”？"' in page and 'data-confirm="确定出库“张明”？"' in page
    r = staff_client.post(f"/pools/experts/{e.id}/status", data={"action": "suspend", "reason": ""})
    assert r.status_code == 422 and "请填写原因" in text(r)
    r = staff_client.post(f"/pools/experts/{e.id}/status", data={"action": "suspend", "reason": "外出学习半年"})
    assert r.status_code == 302
    page = text(staff_client.get(f"/pools/experts/{e.id}"))
    assert "“张明”已暂停" in page and "外出学习半年" in page
    r = staff_client.post(f"/pools/experts/{e.id}/status", data={"action": "remove", "reason": "未如实申报"})
    r = staff_client.post(f"/pools/experts/{e.id}/status", data={"action": "suspend", "reason": "再次"})
    assert r.status_code == 409 and "不允许的状态变更" in text(r)
    db.session.expire_all()
    assert db.session.get(Expert, e.id).status == ExpertStatus.REMOVED
    r = staff_client.post(f"/pools/experts/{e.id}/status", data={"action": "reinstate", "reason": "复核后恢复"})
    assert r.status_code == 302
    db.session.expire_all()
    e = db.session.get(Expert, e.id)
    assert e.status == ExpertStatus.ACTIVE and e.status_reason is None
    actions = list(db.session.scalars(db.select(AuditLog.action).where(AuditLog.object_type == "Expert")
                                      .where(AuditLog.action.in_(["expert.suspended", "expert.removed", "expert.active"]))
                                      .order_by(AuditLog.id)))
    assert actions == ["expert.suspended", "expert.removed", "expert.active"]
    r = staff_client.post(f"/pools/experts/{e.id}/status", data={"action": "delete", "reason": "x"})
    assert r.status_code == 422


def test_district_staff_cannot_change_status_or_edit_other_districts(app, db):
    a, b = make_district(), make_district()
    staff_a = make_user(Role.STAFF, district=a)
    mine, theirs = make_expert(district_id=a.id), make_expert(district_id=b.id)
    db.session.commit()
    c = as_user(app, staff_a)
    assert c.post(f"/pools/experts/{mine.id}/status", data={"action": "suspend", "reason": "x"}).status_code == 403
    assert c.get(f"/pools/experts/{theirs.id}").status_code == 200  # the pool is city-wide
    assert c.get(f"/pools/experts/{theirs.id}/edit").status_code == 403
    assert c.get(f"/pools/experts/{mine.id}/edit").status_code == 200
    page = text(c.get(f"/pools/experts/{mine.id}"))
    assert "在库状态" not in page
    r = c.post("/pools/experts/new", data=form_data(district=str(b.id)))
    assert r.status_code == 422 and "请从列表中选择" in text(r)
    r = c.post("/pools/experts/new", data=form_data(district=str(a.id)))
    assert r.status_code == 302


# --- the expert's own page and declarations -----------------------------------------------------------


def test_expert_sees_only_themselves(app, db):
    me = make_expert(name="李教授")
    other = make_expert(name="王建国")
    add_relation(other, make_org(name="洛阳市某协会"))
    db.session.commit()
    c = as_user(app, me.user)
    page = text(c.get("/pools/me"))
    assert "李教授" in page and "王建国" not in page and "洛阳市某协会" not in page
    assert c.get(f"/pools/experts/{me.id}").headers["Location"].endswith("/pools/me")
    assert c.get(f"/pools/experts/{other.id}").status_code == 404
    assert c.get("/pools/experts").status_code == 403
    assert c.get(f"/pools/experts/{me.id}/edit").status_code == 403
    assert c.get("/pools/import/template").status_code == 403
    assert c.post(f"/pools/experts/{other.id}/relations", data={"org_name": "x", "kind": "other"}).status_code == 404
    assert c.post(f"/pools/experts/{me.id}/status", data={"action": "suspend", "reason": "x"}).status_code == 403
    rel = other.relations[0]
    assert c.post(f"/pools/experts/{other.id}/relations/{rel.id}/delete").status_code == 404
    assert c.post(f"/pools/experts/{me.id}/relations/{rel.id}/delete").status_code == 403


def test_expert_without_record_and_applicant(app, db):
    lone = make_user(Role.EXPERT)
    applicant = make_user(Role.APPLICANT, org=make_org())
    e = make_expert()
    db.session.commit()
    page = text(as_user(app, lone).get("/pools/me"))
    assert "尚未关联专家库档案" in page
    c = as_user(app, applicant)
    for url in ("/pools/experts", f"/pools/experts/{e.id}", "/pools/me", "/pools/orgs.json?q=阳光", "/pools/import",
                "/pools/experts/new"):
        assert c.get(url).status_code in (403, 404), url
    assert c.post(f"/pools/experts/{e.id}/unavailable", data={}).status_code in (403, 404)


def test_expert_declares_relations_and_dates(app, db):
    me = make_expert()
    org = make_org(name="洛阳市洛龙区阳光社会工作服务中心")
    other = make_org(name="洛阳市慈善救助基金会")
    db.session.commit()
    c = as_user(app, me.user)
    found = c.get("/pools/orgs.json?q=阳光社会").get_json()["items"]
    assert found == [{"id": org.id, "name": org.name, "uscc": org.uscc}]
    assert c.get("/pools/orgs.json?q=' OR 1=1--").get_json()["items"] == []
    r = c.post(f"/pools/experts/{me.id}/relations",
               data={"org_id": str(org.id), "org_name": org.name, "kind": "advisor", "start_on": "2024-01-01"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/pools/me#relations")
    r = c.post(f"/pools/experts/{me.id}/relations",
               data={"org_name": "基金会", "org_uscc": other.uscc.lower(), "kind": "director", "start_on": "2020-01-01",
                     "end_on": "2023-12-31"})
    assert r.status_code == 302
    r = c.post(f"/pools/experts/{me.id}/relations",
               data={"org_name": "洛阳某科技有限公司", "kind": "joint_project", "note": "合作课题"})
    assert r.status_code == 302
    rels = db.session.scalars(db.select(ExpertRelation).order_by(ExpertRelation.id)).all()
    assert [(x.org_id, x.org_name, x.kind) for x in rels] == [
        (org.id, org.name, RelationKind.ADVISOR), (other.id, other.name, RelationKind.DIRECTOR),
        (None, "洛阳某科技有限公司", RelationKind.JOINT_PROJECT)]
    assert db.session.scalar(db.select(db.func.count(AuditLog.id)).where(AuditLog.action == "expert.relation_declared")) == 3
    # bad inputs
    for data, message in (
        ({"org_name": "", "kind": "advisor"}, "请从名录中选择组织"),
        ({"org_name": "x", "kind": "friend"}, "请从列表中选择"),
        ({"org_name": "x", "kind": "advisor", "start_on": "2026-02-30"}, "日期不存在"),
        ({"org_name": "x", "kind": "advisor", "start_on": "2025-01-02", "end_on": "2025-01-01"}, "结束日期不能早于开始日期"),
        ({"org_name": "x", "kind": "advisor", "start_on": "0001-01-01"}, "日期应在1949年至2100年之间"),
        ({"org_id": "abc", "org_name": "x", "kind": "advisor"}, "所选组织无效"),
        ({"org_id": "99999999999", "org_name": "x", "kind": "advisor"}, "所选组织无效"),
        ({"org_id": "999999", "org_name": "x", "kind": "advisor"}, "所选组织不存在"),
        ({"org_name": "x", "org_uscc": "52410302MJ0000001X", "kind": "advisor"}, "校验位不正确"),
    ):
        r = c.post(f"/pools/experts/{me.id}/relations", data=data)
        assert r.status_code == 422, data
        assert message in text(r), data
    # unavailable dates
    start = today_local() + timedelta(days=3)
    r = c.post(f"/pools/experts/{me.id}/unavailable",
               data={"start_on": start.isoformat(), "end_on": (start + timedelta(days=2)).isoformat(), "note": "出差"})
    assert r.status_code == 302
    db.session.expire_all()
    me = db.session.get(Expert, me.id)
    assert not me.available_on(start + timedelta(days=1)) and me.available_on(start + timedelta(days=3))
    r = c.post(f"/pools/experts/{me.id}/unavailable", data={"start_on": start.isoformat(), "end_on": "2020-01-01"})
    assert r.status_code == 422 and "结束日期不能早于开始日期" in text(r)
    row = me.unavailable[0]
    assert c.post(f"/pools/experts/{me.id}/unavailable/{row.id}/delete").status_code == 302
    assert c.post(f"/pools/experts/{me.id}/unavailable/{row.id}/delete").status_code == 302  # twice: harmless
    db.session.expire_all()
    assert db.session.get(Expert, me.id).unavailable == []


def test_staff_declare_and_delete_on_the_detail_page(staff_client, db):
    e = make_expert()
    rel = add_relation(e, make_org(), kind=RelationKind.MENTORING)
    add_unavailable(e, today_local(), today_local() + timedelta(days=1))
    db.session.commit()
    page = text(staff_client.get(f"/pools/experts/{e.id}"))
    assert "辅导/导师关系" in page and "进行中" in page
    r = staff_client.post(f"/pools/experts/{e.id}/relations/{rel.id}/delete")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/pools/experts/{e.id}#relations")
    assert db.session.scalar(db.select(db.func.count(ExpertRelation.id))) == 0
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "expert.relation_deleted"))


# --- SECURITY.md bad input 9: ids -----------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["0", "-1", "99999999999", "abc", "1.5"])
def test_bad_ids(staff_client, db, bad):
    e = make_expert()
    db.session.commit()
    for url in (f"/pools/experts/{bad}", f"/pools/experts/{bad}/edit"):
        assert staff_client.get(url).status_code == 404, url
    for url in (f"/pools/experts/{bad}/status", f"/pools/experts/{bad}/relations",
                f"/pools/experts/{e.id}/relations/{bad}/delete", f"/pools/experts/{e.id}/unavailable/{bad}/delete"):
        r = staff_client.post(url, data={"action": "suspend", "reason": "x"})
        assert r.status_code in (302, 404), url  # a deleted (or never existing) row of this expert: nothing to do
        if r.status_code == 302:
            assert bad == "0" or bad.isdigit()


def test_another_experts_rows_are_404(staff_client, db):
    a, b = make_expert(), make_expert()
    rel = add_relation(b, make_org())
    row = add_unavailable(b, today_local(), today_local())
    db.session.commit()
    assert staff_client.post(f"/pools/experts/{a.id}/relations/{rel.id}/delete").status_code == 404
    assert staff_client.post(f"/pools/experts/{a.id}/unavailable/{row.id}/delete").status_code == 404
    assert db.session.scalar(db.select(db.func.count(ExpertRelation.id))) == 1


def test_resend_invitation(staff_client, db):
    e = make_expert()
    db.session.commit()
    r = staff_client.post(f"/pools/experts/{e.id}/invite")
    assert r.status_code == 302
    from incubator.core.mail import OutgoingMail

    assert db.session.scalar(db.select(OutgoingMail).where(OutgoingMail.to == e.email))
