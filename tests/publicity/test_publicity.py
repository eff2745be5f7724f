"""公示: end dates on the Chinese working-day calendar, the public pages, objections, answers and finalising."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from incubator.applications.models import ApplicationStatus
from incubator.core.audit import AuditLog
from incubator.core.mail import OutgoingMail
from incubator.db import today_local
from incubator.notifications.models import Notification
from incubator.publicity import services
from incubator.publicity.models import FundingListStatus, Objection, ObjectionStatus, PublicityStatus
from tests.conftest import login_as
from tests.publicity.helpers import ended_publicity, funding_world, running_publicity


# --------------------------------------------------------------------------- end dates


@pytest.mark.parametrize("start, end", [
    # 国庆节 2026: 10月1日–7日 off; 9月20日 (Sun) and 10月10日 (Sat) are adjusted working days
    (date(2026, 9, 28), date(2026, 10, 10)),  # 29, 30, (1–7 off), 8, 9, 10 (Sat, 调休上班)
    (date(2026, 9, 30), date(2026, 10, 13)),  # (1–7 off), 8, 9, 10 (Sat), (11 Sun), 12, 13
    (date(2026, 9, 18), date(2026, 9, 24)),   # (19 Sat), 20 (Sun, 调休上班), 21, 22, 23, 24
    # 春节 2026: 2月15日–23日 off; 2月14日 (Sat) and 2月28日 (Sat) are adjusted working days
    (date(2026, 2, 12), date(2026, 2, 26)),   # 13, 14 (Sat, 调休上班), (15–23 off), 24, 25, 26
    (date(2026, 2, 24), date(2026, 3, 2)),    # 25, 26, 27, 28 (Sat, 调休上班), (3月1日 Sun), 2
    (date(2026, 2, 13), date(2026, 2, 27)),   # 14 (Sat), (15–23), 24, 25, 26, 27
])
def test_end_date_counts_working_days(db, start, end):
    assert services.end_date(start, 5) == end


def test_start_publicity_stores_the_end_date_and_publicizes(db):
    w = funding_world(approve=True)
    pub = services.start_publicity(w.list, by=w.staff, start=date(2026, 9, 28))
    assert (pub.starts_on, pub.ends_on, pub.workdays) == (date(2026, 9, 28), date(2026, 10, 10), 5)
    assert w.list.status == FundingListStatus.PUBLICIZING
    assert {a.status for a in w.apps} == {ApplicationStatus.PUBLICIZED}
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "publicity.start")).after["ends_on"] == "2026-10-10"


def test_publicity_length_is_a_setting(app, db):
    w = funding_world(approve=True)
    app.config["PUBLICITY_WORKDAYS"] = 7
    try:
        pub = services.start_publicity(w.list, by=w.staff, start=date(2026, 2, 12))
    finally:
        app.config.pop("PUBLICITY_WORKDAYS")
    assert (pub.workdays, pub.ends_on) == (7, date(2026, 2, 28))  # 13, 14, 24, 25, 26, 27, 28 (Sat, 调休上班)


def test_unknown_calendar_year_is_refused_not_guessed(db):
    w = funding_world(approve=True)
    with pytest.raises(services.PublicityError, match="2099年的法定节假日安排尚未录入"):
        services.start_publicity(w.list, by=w.staff, start=date(2099, 3, 2))
    assert w.list.status == FundingListStatus.APPROVED


def test_start_needs_an_approved_list(db):
    w = funding_world()
    with pytest.raises(services.PublicityError, match="审定后才能开始公示"):
        services.start_publicity(w.list, by=w.staff, start=date(2026, 9, 28))


# --------------------------------------------------------------------------- public pages


def test_public_pages_show_projects_organisations_amounts_experts_and_end_date(client, db):
    w = funding_world()
    w.experts[0].title = "教授"
    pub = running_publicity(w)
    db.session.commit()
    listing = client.get("/publicity")
    assert listing.status_code == 200 and pub.title in listing.get_data(as_text=True)
    html = client.get(f"/publicity/{pub.id}").get_data(as_text=True)
    for a in w.apps:
        assert a.display_title in html and a.org.name in html
    assert "¥36,000.00" in html and "¥108,000.00" in html
    assert f"{w.experts[0].name}（教授）" in html
    e = pub.ends_on
    assert f"{e.year}年{e.month}月{e.day}日" in html
    assert 'name="content"' in html  # the objection form, for anyone
    home = client.get("/").get_data(as_text=True)
    assert pub.title in home and "公示期至" in home
    assert client.get("/publicity/99999999999").status_code == 404


def test_public_page_after_the_period_has_no_form(client, db):
    w = funding_world()
    pub = ended_publicity(w)
    db.session.commit()
    html = client.get(f"/publicity/{pub.id}").get_data(as_text=True)
    assert "不再受理异议" in html and 'name="content"' not in html
    resp = client.post(f"/publicity/{pub.id}/objections", data={"name": "张三", "phone": "13912345678",
                                                                "content": "该项目申报材料与实际情况不符。"})
    assert resp.status_code == 409 and db.session.scalar(db.select(db.func.count(Objection.id))) == 0


# --------------------------------------------------------------------------- objections


def _objection(**kw):
    data = {"name": "王五", "phone": "13912345678", "email": "", "content": "该项目的团队成员与申报书所列不一致，请核实。"}
    data.update(kw)
    return data


def test_anyone_files_an_objection_and_gets_a_reference(client, db):
    w = funding_world()
    pub = running_publicity(w)
    item = w.list.items[1]
    db.session.commit()
    resp = client.post(f"/publicity/{pub.id}/objections", data=_objection(item_id=str(item.id), email="Wang@Example.CN"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/publicity/{pub.id}/objection-received")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    obj = db.session.scalar(db.select(Objection))
    assert obj.reference in page and "您的异议已收到" in page
    assert obj.reference.startswith(f"YY{today_local():%Y%m%d}-") and len(obj.reference) == 17
    assert (obj.item_id, obj.name, obj.phone, obj.email, obj.status) == (item.id, "王五", "13912345678",
                                                                          "wang@example.cn", ObjectionStatus.OPEN)
    # the acknowledgement shows once; staff in scope are told
    assert client.get(resp.headers["Location"]).status_code == 302
    assert db.session.scalar(db.select(Notification).where(Notification.user_id == w.staff.id)).title.startswith("收到公示异议")


@pytest.mark.parametrize("data, field_message", [
    (_objection(name=""), "请填写真实姓名"),
    (_objection(phone="", email=""), "请至少填写联系电话或电子邮箱"),
    (_objection(phone="12345"), "请填写正确的手机号或固定电话"),
    (_objection(email="not-an-email"), "请填写正确的电子邮箱"),
    (_objection(content="太短"), "不少于 10 个字"),
    (_objection(content="异" * 2001), "不能超过 2000 个字"),
    (_objection(name="王\x00五"), "包含非法字符"),
    (_objection(content="内容内容内容内容内容\x00内容"), "包含非法字符"),
    (_objection(item_id="abc"), "请选择本次公示中的项目"),
    (_objection(item_id="99999"), "所选项目不在本次公示中"),
])
def test_bad_objections_are_refused_and_kept(client, db, data, field_message):
    w = funding_world()
    pub = running_publicity(w)
    db.session.commit()
    resp = client.post(f"/publicity/{pub.id}/objections", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and field_message in html
    assert db.session.scalar(db.select(db.func.count(Objection.id))) == 0
    if data["name"] and "\x00" not in data["name"]:
        assert f'value="{data["name"]}"' in html


def test_ten_megabytes_of_text_is_refused_without_a_server_error(client, db):
    w = funding_world()
    pub = running_publicity(w)
    db.session.commit()
    resp = client.post(f"/publicity/{pub.id}/objections", data=_objection(content="异议" * (5 * 1024 * 1024)))
    assert resp.status_code in (413, 422)
    assert db.session.scalar(db.select(db.func.count(Objection.id))) == 0


def test_script_in_an_objection_is_stored_as_text_and_escaped(client, db):
    w = funding_world()
    pub = running_publicity(w)
    db.session.commit()
    payload = "<script>alert(1)</script><img src=x onerror=alert(1)> 申报材料造假，请核实。"
    resp = client.post(f"/publicity/{pub.id}/objections", data=_objection(name="<b>赵六</b>", content=payload))
    assert resp.status_code == 302
    obj = db.session.scalar(db.select(Objection))
    assert obj.content == payload
    login_as(client, w.staff)
    html = client.get(f"/staff/publicity/objections/{obj.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>赵六</b>" not in html and "&lt;b&gt;赵六&lt;/b&gt;" in html


def test_not_upheld_keeps_the_grant(client, db):
    w = funding_world()
    pub = running_publicity(w)
    obj = services.file_objection(pub, services.clean_objection(name="王五", phone="13912345678", email="w@example.cn",
                                                                content="对第二个项目有异议，请核实。", item_id=None))
    db.session.commit()
    login_as(client, w.staff)
    resp = client.post(f"/staff/publicity/objections/{obj.id}", data={"decision": "not_upheld", "answer": ""})
    assert resp.status_code == 422 and "请填写答复意见" in resp.get_data(as_text=True)
    resp = client.post(f"/staff/publicity/objections/{obj.id}",
                       data={"decision": "not_upheld", "answer": "经核实，团队成员变更已按规定备案。"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert obj.status == ObjectionStatus.NOT_UPHELD and obj.answered_by_id == w.staff.id
    assert {a.status for a in w.apps} == {ApplicationStatus.PUBLICIZED}
    mail = db.session.scalar(db.select(OutgoingMail).where(OutgoingMail.to == "w@example.cn"))
    assert "异议不成立" in mail.body
    # answered once only
    resp = client.post(f"/staff/publicity/objections/{obj.id}",
                       data={"decision": "upheld", "answer": "改判", "item_id": str(w.list.items[0].id)})
    assert resp.status_code == 409


def test_upheld_objection_cancels_the_grant_audited_and_tells_the_org(client, db):
    w = funding_world()
    pub = running_publicity(w)
    item = w.list.items[1]
    obj = services.file_objection(pub, services.clean_objection(name="王五", phone="13912345678", email="",
                                                                content="该项目与已资助项目重复申报。", item_id=item.id))
    db.session.commit()
    login_as(client, w.staff)
    resp = client.post(f"/staff/publicity/objections/{obj.id}",
                       data={"decision": "upheld", "answer": "经核实，该项目与2025年已资助项目内容重复。"})
    assert resp.status_code == 302
    db.session.expire_all()
    app = item.application
    assert obj.status == ObjectionStatus.UPHELD and app.status == ApplicationStatus.CANCELLED
    assert item.cancelled_at is not None and obj.reference in item.cancel_reason
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "application.cancelled")) is not None
    cancel = db.session.scalar(db.select(AuditLog).where(AuditLog.action == "funding.cancel"))
    assert cancel.before["amount"] == "36000.00"
    note = db.session.scalar(db.select(Notification).where(Notification.user_id == w.members[1].id,
                                                           Notification.title.like("取消资助%")))
    assert note is not None and "异议成立" in note.body
    assert db.session.scalar(db.select(OutgoingMail).where(OutgoingMail.to == "org1@example.org.cn")) is not None
    # the public page shows it cancelled and the total without it
    html = client.get(f"/publicity/{pub.id}").get_data(as_text=True)
    assert "已取消资助" in html and "¥72,000.00" in html


def test_upheld_general_objection_needs_the_project(db):
    w = funding_world()
    pub = running_publicity(w)
    obj = services.file_objection(pub, services.clean_objection(name="王五", phone="13912345678", email="",
                                                                content="评审过程存在问题，请核实。", item_id=None))
    with pytest.raises(services.InvalidInput, match="请选择被取消资助的项目"):
        services.answer_objection(obj, upheld=True, answer="成立", by=w.staff)
    services.answer_objection(obj, upheld=True, answer="成立", by=w.staff, item=w.list.items[2])
    assert w.apps[2].status == ApplicationStatus.CANCELLED and obj.item_id == w.list.items[2].id


# --------------------------------------------------------------------------- finalising


def test_finalize_refused_before_the_end_and_while_objections_are_open(client, db):
    w = funding_world()
    pub = running_publicity(w)
    with pytest.raises(services.PublicityError, match="期满后才能确定结果"):
        services.finalize(pub, by=w.staff)
    pub.starts_on, pub.ends_on = today_local() - timedelta(days=8), today_local() - timedelta(days=1)
    obj = Objection(publicity_id=pub.id, reference="YY20261201-TEST01", name="王五", phone="13912345678",
                    content="异议内容异议内容", status=ObjectionStatus.OPEN)
    db.session.add(obj)
    db.session.commit()
    login_as(client, w.staff)
    resp = client.post(f"/staff/publicity/lists/{w.list.id}/finalize")
    assert resp.status_code == 409 and "还有 1 条异议尚未答复" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert pub.status == PublicityStatus.OPEN and {a.status for a in w.apps} == {ApplicationStatus.PUBLICIZED}


def test_finalize_makes_results_final_and_notifies(client, db):
    w = funding_world()
    pub = ended_publicity(w)
    services.cancel_grant(w.list.items[0], by=w.staff, reason="异议成立")
    db.session.commit()
    login_as(client, w.staff)
    resp = client.post(f"/staff/publicity/lists/{w.list.id}/finalize")
    assert resp.status_code == 302
    db.session.expire_all()
    assert pub.status == PublicityStatus.FINAL and w.list.status == FundingListStatus.FINAL
    assert [a.status for a in w.apps] == [ApplicationStatus.CANCELLED, ApplicationStatus.FUNDED, ApplicationStatus.FUNDED]
    titles = set(db.session.scalars(db.select(Notification.title).where(Notification.user_id == w.members[1].id)))
    assert "确定资助：WCT-2026-0002" in titles
    mails = set(db.session.scalars(db.select(OutgoingMail.to)))
    assert {"org1@example.org.cn", "org2@example.org.cn"} <= mails
    html = client.get(f"/publicity/{pub.id}").get_data(as_text=True)
    assert "公示期已结束，结果已确定" in html and "已确定资助" in html


def test_finalize_cli(app, db):
    done = funding_world()
    ended_publicity(done)
    waiting = funding_world(first_number=11)
    pub_waiting = ended_publicity(waiting)
    db.session.add(Objection(publicity_id=pub_waiting.id, reference="YY20261201-TEST02", name="王五",
                             phone="13912345678", content="异议内容异议内容", status=ObjectionStatus.OPEN))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["publicity", "finalize"])
    assert result.exit_code == 1, result.output
    assert "结果已确定，3 个项目确定资助" in result.output and "还有 1 条异议尚未答复" in result.output
    db.session.expire_all()
    assert done.pub.status == PublicityStatus.FINAL and pub_waiting.status == PublicityStatus.OPEN
    result = app.test_cli_runner().invoke(args=["publicity", "finalize"])
    assert result.exit_code == 1  # still waiting; the finalised one is not finalised twice
    assert "3 个项目" not in result.output


def test_district_staff_see_only_their_lists(client, db):
    from incubator.accounts.models import Role
    from tests.factories import make_district, make_user

    da, d_b = make_district(), make_district()
    w = funding_world(district=da)
    staff_b = make_user(Role.STAFF, district=d_b)
    db.session.commit()
    login_as(client, staff_b)
    assert client.get(f"/staff/publicity/lists/{w.list.id}").status_code == 404
    assert w.call.title not in client.get("/staff/publicity/").get_data(as_text=True)
    login_as(client, w.staff)
    assert client.get(f"/staff/publicity/lists/{w.list.id}").status_code == 200


def test_start_view_refuses_a_past_start_date(client, db):
    w = funding_world(approve=True)
    db.session.commit()
    login_as(client, w.staff)
    resp = client.post(f"/staff/publicity/lists/{w.list.id}/start",
                       data={"starts_on": (today_local() - timedelta(days=1)).isoformat()})
    assert resp.status_code == 422 and "不能早于今天" in resp.get_data(as_text=True)
    resp = client.post(f"/staff/publicity/lists/{w.list.id}/start", data={"starts_on": "2026-02-30"})
    assert resp.status_code == 422 and "格式不正确" in resp.get_data(as_text=True)
