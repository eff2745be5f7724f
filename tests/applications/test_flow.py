"""Start, save, autosave, submit, resubmit, withdraw — services and views."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.test import encode_multipart

from incubator.applications import services
from incubator.applications.forms import parse_draft
from incubator.applications.models import Application, ApplicationStatus
from incubator.core.audit import AuditLog
from incubator.core.states import history
from incubator.db import utcnow
from incubator.orgs.models import CreditKind, CreditRecord, Verification
from tests.applications.helpers import (
    form_data,
    make_application,
    make_call,
    make_member,
    make_org,
    set_status,
    submitted_application,
)
from tests.conftest import login_as


# ----------------------------------------------------------------------------- start


def test_start_creates_a_draft_for_an_open_call(client, db):
    call, org = make_call(), make_org()
    member = make_member(org)
    db.session.commit()
    login_as(client, member)
    r = client.post(f"/calls/{call.id}/apply")
    app = db.session.scalar(select(Application))
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/applications/{app.id}/edit")
    assert app.status == ApplicationStatus.DRAFT and app.org_id == org.id and app.number is None
    assert app.bank_account_name == org.name


def test_start_refuses_with_every_reason(db):
    call = make_call(opens_at=utcnow() - timedelta(days=20), closes_at=utcnow() - timedelta(days=1))
    org = make_org(status=Verification.PENDING)
    db.session.add(CreditRecord(org_id=org.id, kind=CreditKind.ABNORMAL_LIST, reason="未按时报送年报",
                                source="洛民社〔2026〕1号", start_on=utcnow().date() - timedelta(days=30)))
    db.session.flush()
    db.session.refresh(org)
    with pytest.raises(services.CannotStart) as exc:
        services.start_application(call, org=org, by=make_member(org))
    reasons = exc.value.reasons
    assert reasons[0] == "本批次当前状态为“已截止”，不在申报期内"
    assert any(r.startswith("组织尚未通过民政部门认证") for r in reasons)
    assert any(r.startswith("已被列入活动异常名录") for r in reasons)


def test_start_refused_view_flashes_each_reason(client, db):
    call = make_call(published=False)
    member = make_member(make_org())
    db.session.commit()
    login_as(client, member)
    r = client.post(f"/calls/{call.id}/apply", follow_redirects=True)
    assert "本批次当前状态为“草稿”，不在申报期内" in r.text
    assert db.session.scalar(select(Application)) is None


def test_at_most_n_applications_per_org_and_withdrawn_do_not_count(db):
    call, org = make_call(), make_org()
    member = make_member(org)
    first = services.start_application(call, org=org, by=member)
    services.start_application(call, org=org, by=member)
    with pytest.raises(services.CannotStart) as exc:
        services.start_application(call, org=org, by=member)
    assert "本组织在本批次已有2份申报书（含草稿），已达上限（每个组织最多2份；已撤回的不计）" in exc.value.reasons
    services.withdraw(first, by=member)
    assert services.start_application(call, org=org, by=member).status == ApplicationStatus.DRAFT


def test_staff_cannot_start(client, db):
    from incubator.accounts.models import Role
    from tests.factories import make_user

    call = make_call()
    staff = make_user(Role.STAFF)
    db.session.commit()
    login_as(client, staff)
    assert client.post(f"/calls/{call.id}/apply").status_code == 403


# ----------------------------------------------------------------------------- saving


def _edit_page(client, app):
    return client.get(f"/applications/{app.id}/edit")


def test_autosave_stores_an_incomplete_and_invalid_draft(client, db):
    app = make_application(complete=False)
    member = db.session.get(type(app.created_by), app.created_by_id)
    db.session.commit()
    login_as(client, member)
    r = client.post(f"/applications/{app.id}/autosave", data={
        "title": "只填了名称", "budget-0-item": "场地", "budget-0-unit_price": "1e309", "budget-0-quantity": "2",
        "period_start": "2026-02-30", "version_id": str(app.version_id),
    })
    assert r.status_code == 200 and r.json["ok"] is True
    assert r.json["errors"]["budget-0-unit_price"].startswith("预算明细第1行单价格式不正确")
    assert r.json["saved_at"]
    db.session.expire_all()
    app = db.session.get(Application, app.id)
    assert app.title == "只填了名称" and app.last_saved_at is not None
    assert app.budget_lines[0].item == "场地" and app.budget_lines[0].unit_price is None
    assert app.raw_inputs["budget-0-unit_price"]["value"] == "1e309"
    assert app.raw_inputs["period_start"]["value"] == "2026-02-30"
    # Reloading the page loses nothing: the typed text comes back with its message.
    page = _edit_page(client, app).text
    assert 'value="1e309"' in page and 'value="2026-02-30"' in page
    assert "项目开始日期不是有效的日期（2026年2月30日不存在）" in page


def test_autosave_with_a_stale_version_is_a_conflict(client, db):
    app = make_application()
    member = app.created_by
    db.session.commit()
    login_as(client, member)
    stale = app.version_id
    ok = client.post(f"/applications/{app.id}/autosave", data=form_data(title="第一次", version_id=str(stale)))
    assert ok.status_code == 200
    r = client.post(f"/applications/{app.id}/autosave", data=form_data(title="旧页面", version_id=str(stale)))
    assert r.status_code == 409 and r.json["conflict"] is True and "其他页面" in r.json["error"]
    db.session.expire_all()
    assert db.session.get(Application, app.id).title == "第一次"


def test_autosave_answers_401_json_when_the_session_expired(client, db):
    app = make_application()
    db.session.commit()
    r = client.post(f"/applications/{app.id}/autosave", data=form_data())
    assert r.status_code == 401 and r.json["login"] is True and "登录已过期" in r.json["error"]


def test_save_draft_refuses_nul_bytes_and_overlong_text_with_a_message(client, db):
    app = make_application()
    member = app.created_by
    db.session.commit()
    login_as(client, member)
    r = client.post(f"/applications/{app.id}/edit", data=form_data(title="坏\x00名称"))
    assert r.status_code == 422 and "非法字符（NUL）" in r.text
    r = client.post(f"/applications/{app.id}/edit", data=form_data(title="长" * 201))
    assert r.status_code == 422 and "“项目名称”不能超过200个字（当前201个字）" in r.text
    assert 'value="' + "长" * 201 + '"' in r.text  # what was typed is kept on the page
    r = client.post(f"/applications/{app.id}/autosave", data=form_data(need_analysis="需" * 20001))
    assert r.status_code == 422 and "“需求分析”不能超过20000个字" in r.json["error"]
    db.session.expire_all()
    assert db.session.get(Application, app.id).title == "“银龄互助”社区居家养老服务项目"


def test_ten_megabytes_of_text_is_refused_clearly(client, db):
    """Refused before parsing (413, multipart) or by the field limit (422): a message either way."""
    app = make_application()
    member = app.created_by
    db.session.commit()
    login_as(client, member)
    huge = "x" * (10 * 1024 * 1024)
    r = client.post(f"/applications/{app.id}/autosave", data=form_data(need_analysis=huge))
    assert r.status_code == 422 and "“需求分析”不能超过20000个字" in r.json["error"]
    boundary, body = encode_multipart(form_data(need_analysis=huge))
    kind = f"multipart/form-data; boundary={boundary}"
    r = client.post(f"/applications/{app.id}/autosave", data=body, content_type=kind)
    assert r.status_code == 413 and "填写的内容过长" in r.json["error"]
    r = client.post(f"/applications/{app.id}/edit", data=body, content_type=kind)
    assert r.status_code == 413 and "填写的内容过长" in r.text
    db.session.expire_all()
    assert db.session.get(Application, app.id).need_analysis.startswith("辖区老龄化率")


def test_posted_status_org_number_and_amounts_are_ignored(client, db):
    app = make_application()
    member = app.created_by
    other = make_org()
    db.session.commit()
    login_as(client, member)
    r = client.post(f"/applications/{app.id}/edit", data=form_data(
        status="passed", org_id=str(other.id), number="WCT-2026-9999", amount="1", grant_requested="999999",
        total_budget="1", **{"budget-0-amount": "1.00", "call_id": "99"},
    ))
    assert r.status_code == 302
    db.session.expire_all()
    app = db.session.get(Application, app.id)
    assert (app.status, app.org_id, app.number) == (ApplicationStatus.DRAFT, member.org_id, None)
    assert app.grant_requested == Decimal("36000.00") and app.total_budget == Decimal("60000.00")
    assert app.budget_lines[0].amount == Decimal("36000.00")


def test_rows_are_renumbered_and_blank_rows_dropped(db):
    call = make_call()
    app = make_application(call, complete=False)
    data = MultiDict({"plan-5-content": "第二行", "plan-2-content": "第一行", "plan-3-content": "  ",
                      "budget-9-category": "activity", "budget-9-source": "grant"})
    services.save_draft(app, draft=parse_draft(data, call), by=app.created_by)
    assert [r.content for r in app.plan_rows] == ["第一行", "第二行"]
    assert app.budget_lines == []  # a row with only its selects set is blank


def test_saving_is_refused_once_submitted(client, db):
    app = submitted_application()
    member = app.created_by
    db.session.commit()
    login_as(client, member)
    r = client.post(f"/applications/{app.id}/edit", data=form_data(title="改"))
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/applications/{app.id}")
    r = client.post(f"/applications/{app.id}/autosave", data=form_data(title="改"))
    assert r.status_code == 409 and "不能修改" in r.json["error"]
    r = client.get(f"/applications/{app.id}/edit")
    assert r.status_code == 302


# ----------------------------------------------------------------------------- submission


def test_submit_allocates_number_version_history_mail_and_notification(client, db):
    from incubator.core.mail import OutgoingMail
    from incubator.notifications.models import Notification

    call, org = make_call(), make_org(contact_email="office@yg.org.cn")
    member = make_member(org)
    colleague = make_member(org)
    app = make_application(call, org, by=member)
    db.session.commit()
    login_as(client, member)
    r = client.post(f"/applications/{app.id}/submit", data=form_data(version_id=str(app.version_id)))
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/applications/{app.id}/receipt")
    db.session.expire_all()
    app = db.session.get(Application, app.id)
    assert app.status == ApplicationStatus.SUBMITTED and app.number == "WCT-2026-0001"
    assert app.submitted_at is not None and app.last_submitted_at == app.submitted_at
    [version] = app.versions
    assert version.number == 1 and version.status == ApplicationStatus.SUBMITTED and version.pdf_job_id
    assert version.data["basic"]["title"] == "“银龄互助”社区居家养老服务项目"
    assert version.data["totals"]["total_budget"] == "60000.00"
    [h] = history(app)
    assert (h.from_status, h.to_status, h.by_id) == ("draft", "submitted", member.id)
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"application.submitted", "application.version", "application.start"} <= actions
    notes = db.session.scalars(select(Notification)).all()
    assert {n.user_id for n in notes} == {member.id, colleague.id}
    assert all(n.title == "申报书已提交：WCT-2026-0001" and n.link == f"/applications/{app.id}" for n in notes)
    mails = db.session.scalars(select(OutgoingMail)).all()
    assert {m.to for m in mails} == {member.email, "office@yg.org.cn"}
    assert "WCT-2026-0001" in mails[0].body and "已提交，等待资格审查" in mails[0].body
    receipt = client.get(f"/applications/{app.id}/receipt").text
    for text in ("WCT-2026-0001", "“银龄互助”社区居家养老服务项目", org.name, "¥36,000.00", "¥60,000.00", "已提交，等待资格审查"):
        assert text in receipt


def test_submission_problems_are_listed_all_at_once_and_the_draft_is_saved(client, db):
    app = make_application()
    member = app.created_by
    db.session.commit()
    login_as(client, member)
    r = client.post(f"/applications/{app.id}/submit", data=form_data(
        title="", need_analysis="", **{"budget-0-unit_price": "0.001", "team-0-role": ""}, bank_account_number="12",
    ))
    assert r.status_code == 422
    for message in ("请填写项目名称", "请填写需求分析", "预算明细第1行单价最多保留两位小数（精确到分）（当前填写：“0.001”）",
                    "项目团队第1行：请填写项目角色", "收款账号应为8至30位数字"):
        assert message in r.text
    assert "未能提交：申报书还有" in r.text and "（草稿已保存）" in r.text
    db.session.expire_all()
    app = db.session.get(Application, app.id)
    assert app.status == ApplicationStatus.DRAFT and app.number is None and app.title == ""
    assert app.raw_inputs["budget-0-unit_price"]["value"] == "0.001"


def test_submission_after_the_deadline_is_refused(db):
    call = make_call()
    app = make_application(call)
    with pytest.raises(services.SubmissionRefused) as exc:
        services.submit(app, by=app.created_by, now=call.closes_at + timedelta(seconds=1))
    assert any("截止，无法提交" in p.message for p in exc.value.problems)


def test_resubmission_keeps_the_number_and_adds_a_version(client, db):
    from incubator.core.states import transition

    call = make_call()
    app = submitted_application(call)
    member = app.created_by
    transition(app, ApplicationStatus.RETURNED, by=None, note="预算说明不足")
    app.return_reasons = {"budget": "请补充测算依据"}
    app.revision_deadline = (utcnow() + timedelta(days=5)).date()
    db.session.commit()
    login_as(client, member)
    page = client.get(f"/applications/{app.id}/edit").text
    assert "请补充测算依据" in page and "重新提交" in page
    r = client.post(f"/applications/{app.id}/submit", data=form_data(
        version_id=str(app.version_id), **{"budget-0-note": "每场物料300元、交通200元、场地700元"}))
    assert r.status_code == 302
    db.session.expire_all()
    app = db.session.get(Application, app.id)
    assert app.status == ApplicationStatus.RESUBMITTED and app.number == "WCT-2026-0001"
    assert [v.number for v in app.versions] == [1, 2]
    assert app.versions[1].status == ApplicationStatus.RESUBMITTED
    diff = services.diff_snapshots(app.versions[0].data, app.versions[1].data, call=call)
    assert diff and diff[0][0] == "项目预算" and "每场物料300元" in diff[0][3]


def test_double_submission_is_refused(db):
    app = make_application()
    services.submit(app, by=app.created_by)
    with pytest.raises(services.NotEditable):
        services.submit(app, by=app.created_by)


# ----------------------------------------------------------------------------- withdraw and next steps


def test_withdraw_before_the_deadline(client, db):
    app = submitted_application()
    member = app.created_by
    db.session.commit()
    login_as(client, member)
    r = client.post(f"/applications/{app.id}/withdraw", follow_redirects=True)
    assert "申报书已撤回" in r.text
    db.session.expire_all()
    app = db.session.get(Application, app.id)
    assert app.status == ApplicationStatus.WITHDRAWN and app.withdrawn_at is not None
    assert history(app)[-1].to_status == "withdrawn"


def test_withdraw_after_the_deadline_is_refused(db):
    app = submitted_application()
    with pytest.raises(services.CannotWithdraw, match="本批次申报已截止，不能再撤回申报书"):
        services.withdraw(app, by=app.created_by, now=app.call.closes_at)
    set_status(app, ApplicationStatus.PASSED)
    with pytest.raises(services.CannotWithdraw, match="当前状态（资格审查通过）不能撤回|当前状态为“资格审查通过”，不能撤回"):
        services.withdraw(app, by=app.created_by)


@pytest.mark.parametrize("status, extra, expected", [
    (ApplicationStatus.SUBMITTED, {}, "已提交，等待资格审查"),
    (ApplicationStatus.RESUBMITTED, {}, "已重新提交，等待资格审查"),
    (ApplicationStatus.RETURNED, {"revision_deadline": "in5"}, "退回修改：请在{d}前修改后重新提交"),
    (ApplicationStatus.RETURNED, {}, "退回修改：请按审查意见修改后重新提交"),
    (ApplicationStatus.PASSED, {}, "资格审查通过，等待专家评审"),
    (ApplicationStatus.REJECTED, {}, "未通过资格审查，本批次申报结束"),
    (ApplicationStatus.WITHDRAWN, {}, "已撤回，不参加本批次评审"),
])
def test_what_happens_next(client, db, status, extra, expected):
    app = submitted_application()
    d = (utcnow() + timedelta(days=5)).date()
    if extra.get("revision_deadline"):
        extra = {"revision_deadline": d}
    set_status(app, status, **extra)
    expected = expected.format(d=f"{d.year}年{d.month}月{d.day}日")
    assert services.next_step(app) == expected
    db.session.commit()
    login_as(client, app.created_by)
    assert expected in client.get("/applications/mine").text


def test_draft_next_step_names_the_deadline(db):
    app = make_application()
    assert services.next_step(app).startswith("草稿：请在") and services.next_step(app).endswith("前填写完整并提交")
    assert services.next_step(app, now=app.call.closes_at) == "申报已截止，此草稿无法再提交"


def test_detail_page_shows_the_status_history(client, db):
    app = submitted_application()
    db.session.commit()
    login_as(client, app.created_by)
    page = client.get(f"/applications/{app.id}").text
    assert "办理记录" in page and "创建草稿" in page and "已提交" in page and "申报编号 WCT-2026-0001" in page
    assert "@example.cn" not in page.split("办理记录")[1]  # actors shown by name, not e-mail


# ----------------------------------------------------------------------------- XSS


XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '<a href="jav&#x09;ascript:alert(1)">x</a>']


@pytest.mark.parametrize("payload", XSS)
def test_markup_is_stored_as_typed_and_rendered_escaped(client, db, payload):
    app = make_application()
    member = app.created_by
    db.session.commit()
    login_as(client, member)
    data = form_data(title=payload, need_analysis=payload, **{"budget-0-item": payload, "team-0-name": payload[:50]})
    assert client.post(f"/applications/{app.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, app.id).title == payload
    for url in (f"/applications/{app.id}/edit", f"/applications/{app.id}", "/applications/mine"):
        page = client.get(url).text
        assert payload not in page
        assert "&lt;" in page


def test_a_save_racing_another_save_is_a_conflict_not_an_error(db):
    """Two requests load the same draft; the second to write gets EditConflict (409), never a 500."""
    from sqlalchemy.orm import Session

    call = make_call()
    app = make_application(call)
    db.session.commit()
    version = app.version_id
    _ = app.plan_rows, app.team_members  # loaded like a request would
    with Session(db.engine) as other:
        twin = other.get(Application, app.id)
        twin.title = "另一个标签页"
        other.commit()
    draft = parse_draft(MultiDict(form_data(call, title="本页", version_id=str(version))), call)
    with pytest.raises(services.EditConflict):
        services.save_draft(app, draft=draft, by=app.created_by)
    db.session.rollback()
    assert db.session.get(Application, app.id).title == "另一个标签页"
