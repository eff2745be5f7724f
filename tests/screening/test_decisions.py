"""Screening decisions: pass, return for revision, reject — states, inputs, locking, notifications."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from incubator.applications.models import SECTIONS, Application, ApplicationStatus
from incubator.core.audit import AuditLog
from incubator.core.mail import OutgoingMail
from incubator.core.states import StatusHistory
from incubator.core.workdays import add_workdays
from incubator.db import today_local
from incubator.notifications.models import Notification
from incubator.screening import forms, services
from tests.conftest import login_as
from tests.screening.helpers import make_member, make_submitted

S = ApplicationStatus
FUTURE = (today_local() + timedelta(days=10)).isoformat()
RETURN_OK = {"reason_budget": "人员费用占比超过30%，请调整。", "deadline": FUTURE}


def _url(app, what=""):
    return f"/staff/applications/{app.id}" + (f"/{what}" if what else "")


def _reload(db, app) -> Application:
    db.session.expire_all()
    return db.session.get(Application, app.id)


# --------------------------------------------------------------------------- the transition table


DECISIONS = {
    "pass": (S.PASSED, {}),
    "return": (S.RETURNED, RETURN_OK),
    "reject": (S.REJECTED, {"reason": "申报单位不具备承接能力。"}),
}


@pytest.mark.parametrize("start", [s for s in S if s != S.DRAFT], ids=lambda s: s.value)  # drafts: see below
@pytest.mark.parametrize("decision", list(DECISIONS))
def test_each_decision_from_each_state(db, client, two_districts, start, decision):
    """Allowed from submitted and resubmitted only; every other state answers 409 with the reason."""
    w = two_districts
    app = make_submitted(w.org_a, w.call, by=w.member_a, status=start)
    db.session.commit()
    login_as(client, w.staff_a)
    target, data = DECISIONS[decision]
    response = client.post(_url(app, decision), data=data)
    app = _reload(db, app)
    if start in (S.SUBMITTED, S.RESUBMITTED):
        assert response.status_code == 302
        assert app.status == target
        history = db.session.scalars(select(StatusHistory).where(StatusHistory.object_id == app.id)).all()
        assert [h.to_status for h in history] == [target.value]
        assert history[0].from_status == start.value
        assert history[0].by_id == w.staff_a.id
    else:
        assert response.status_code == 409
        page = response.get_data(as_text=True)
        assert f"申报书当前状态为“{start.label}”" in page
        assert "只有“已提交”或“已重新提交”的申报书可以进行资格审查" in page
        assert app.status == start


def test_drafts_are_invisible(db, client, two_districts):
    w = two_districts
    from tests.applications.helpers import make_application

    draft = make_application(w.call, w.org_a, by=w.member_a)
    db.session.commit()
    login_as(client, w.staff_a)
    assert client.get(_url(draft)).status_code == 404
    assert client.post(_url(draft, "pass")).status_code == 404
    assert draft.number is None or draft.number not in client.get("/staff/applications/?status=all").get_data(as_text=True)


# --------------------------------------------------------------------------- pass


def test_pass_is_audited_and_notified(db, client, two_districts):
    w = two_districts
    other_member = make_member(w.org_a, email="second.member@example.cn", is_org_admin=False)
    w.org_a.contact_email = "office@yangguang.example.cn"
    app = make_submitted(w.org_a, w.call, by=w.member_a)
    db.session.commit()
    login_as(client, w.staff_a)
    response = client.post(_url(app, "pass"), data={"note": "材料齐全。"})
    assert response.status_code == 302
    follow = client.get(response.headers["Location"])
    assert f"已通过资格审查：{app.number}" in follow.get_data(as_text=True)
    app = _reload(db, app)
    assert app.status == S.PASSED
    actions = [a.action for a in db.session.scalars(select(AuditLog).where(AuditLog.object_id == app.id))]
    assert "application.passed" in actions and "application.screening" in actions
    notes = db.session.scalars(select(Notification).order_by(Notification.user_id)).all()
    assert {n.user_id for n in notes} == {w.member_a.id, other_member.id}
    assert all(n.title == f"资格审查通过：{app.number}" and "下一步：进入专家评审" in n.body for n in notes)
    assert all(n.link == f"/applications/{app.id}" for n in notes)
    mails = {m.to for m in db.session.scalars(select(OutgoingMail))}
    assert mails == {"member.a@example.cn", "second.member@example.cn", "office@yangguang.example.cn"}
    # Members of another organisation hear nothing.
    assert not db.session.scalars(select(Notification).where(Notification.user_id == w.member_b.id)).all()


# --------------------------------------------------------------------------- return for revision


def test_return_stores_reasons_and_deadline_and_tells_what_to_do(db, client, two_districts):
    w = two_districts
    app = make_submitted(w.org_a, w.call, by=w.member_a)
    db.session.commit()
    login_as(client, w.staff_a)
    deadline = today_local() + timedelta(days=8)
    response = client.post(_url(app, "return"), data={
        "reason_budget": "人员费用占比超过30%。", "reason_attachments": "请补充登记证书副本。", "reason_goals": "  ",
        "deadline": deadline.isoformat(),
    })
    assert response.status_code == 302
    app = _reload(db, app)
    assert app.status == S.RETURNED
    assert app.return_reasons == {"budget": "人员费用占比超过30%。", "attachments": "请补充登记证书副本。"}
    assert app.revision_deadline == deadline
    note = db.session.scalars(select(Notification).where(Notification.user_id == w.member_a.id)).one()
    assert note.title == f"申报书退回修改：{app.number}"
    assert "项目预算：人员费用占比超过30%。" in note.body and "附件：请补充登记证书副本。" in note.body
    assert f"请在{deadline.year}年{deadline.month}月{deadline.day}日（含当日）前" in note.body
    mail = db.session.scalars(select(OutgoingMail).where(OutgoingMail.to == "member.a@example.cn")).one()
    assert "重新提交" in mail.body and f"/applications/{app.id}" in mail.body
    history = db.session.scalars(select(StatusHistory).where(StatusHistory.object_id == app.id)).one()
    assert "项目预算：人员费用占比超过30%。" in history.note


def test_return_needs_at_least_one_reason(db, client, two_districts):
    w = two_districts
    app = make_submitted(w.org_a, w.call, by=w.member_a)
    db.session.commit()
    login_as(client, w.staff_a)
    response = client.post(_url(app, "return"), data={"reason_basic": "   ", "deadline": FUTURE})
    assert response.status_code == 422
    assert "请至少针对一个部分填写退回修改的意见" in response.get_data(as_text=True)
    assert _reload(db, app).status == S.SUBMITTED
    # Unknown section names are not reasons.
    response = client.post(_url(app, "return"), data={"reason_nonsense": "x", "deadline": FUTURE})
    assert response.status_code == 422
    with pytest.raises(services.DecisionRefused, match="至少针对一个部分"):
        services.return_for_revision(_reload(db, app), by=w.staff_a, reasons={}, deadline=date.today() + timedelta(days=3))


@pytest.mark.parametrize(
    ("deadline", "message"),
    [
        ("2026-02-30", "修改期限不是有效的日期（2026年2月30日不存在）"),
        ("0001-01-01", "修改期限的年份应在2000年至2100年之间"),
        ((today_local() - timedelta(days=1)).isoformat(), "修改期限不能早于今天"),
        ((today_local() + timedelta(days=400)).isoformat(), "修改期限不能超过一年"),
        ("下周五", "修改期限格式不正确"),
        ("", "请填写修改期限"),
    ],
)
def test_return_deadline_validation(db, client, two_districts, deadline, message):
    w = two_districts
    app = make_submitted(w.org_a, w.call, by=w.member_a)
    db.session.commit()
    login_as(client, w.staff_a)
    response = client.post(_url(app, "return"), data={"reason_basic": "项目名称与内容不符。", "deadline": deadline})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "项目名称与内容不符。" in page  # what was typed is kept
    assert _reload(db, app).status == S.SUBMITTED


def test_return_deadline_today_is_accepted_and_default_is_five_workdays(db, client, two_districts):
    w = two_districts
    app = make_submitted(w.org_a, w.call, by=w.member_a)
    db.session.commit()
    login_as(client, w.staff_a)
    page = client.get(_url(app)).get_data(as_text=True)
    assert f'value="{add_workdays(today_local(), 5).isoformat()}"' in page
    response = client.post(_url(app, "return"), data={"reason_bank": "账户名称须与组织名称一致。", "deadline": today_local().isoformat()})
    assert response.status_code == 302
    assert _reload(db, app).revision_deadline == today_local()


def test_return_service_refuses_past_deadline(db, two_districts):
    w = two_districts
    app = make_submitted(w.org_a, w.call, by=w.member_a)
    with pytest.raises(services.DecisionRefused, match="不能早于今天"):
        services.return_for_revision(app, by=w.staff_a, reasons={"basic": "x"}, deadline=today_local() - timedelta(days=1))
    with pytest.raises(services.DecisionRefused, match="只能针对申报书的各个部分"):
        services.return_for_revision(app, by=w.staff_a, reasons={"status": "passed"}, deadline=today_local())


def test_return_form_has_a_field_per_section():
    from wtforms.fields.core import UnboundField

    fields = [(k, f.args[0]) for k, f in forms.ReturnForm.__dict__.items() if isinstance(f, UnboundField) and k.startswith("reason_")]
    assert fields == [(f"reason_{key}", label) for key, label in SECTIONS]


# --------------------------------------------------------------------------- reject


def test_reject_needs_a_reason(db, client, two_districts):
    w = two_districts
    app = make_submitted(w.org_a, w.call, by=w.member_a)
    db.session.commit()
    login_as(client, w.staff_a)
    response = client.post(_url(app, "reject"), data={"reason": "  \r\n "})
    assert response.status_code == 422
    assert "请填写不通过的理由" in response.get_data(as_text=True)
    assert _reload(db, app).status == S.SUBMITTED
    response = client.post(_url(app, "reject"), data={"reason": "项目内容属于禁止列支的范围。"})
    assert response.status_code == 302
    app = _reload(db, app)
    assert app.status == S.REJECTED
    note = db.session.scalars(select(Notification).where(Notification.user_id == w.member_a.id)).one()
    assert "理由：项目内容属于禁止列支的范围。" in note.body


# --------------------------------------------------------------------------- mass assignment, bad input


def test_extra_posted_fields_are_ignored(db, client, two_districts):
    w = two_districts
    app = make_submitted(w.org_a, w.call, by=w.member_a)
    db.session.commit()
    login_as(client, w.staff_a)
    response = client.post(_url(app, "pass"), data={
        "status": "rejected", "org_id": str(w.org_b.id), "district_id": str(w.district_b.id), "number": "HACK-1",
        "grant_requested": "999999", "is_admin": "1",
    })
    assert response.status_code == 302
    app = _reload(db, app)
    assert app.status == S.PASSED
    assert app.org_id == w.org_a.id and app.number != "HACK-1"
    assert str(app.grant_requested) == "36000.00"
    assert w.org_a.district_id == w.district_a.id


def test_xss_in_reasons_is_escaped(db, client, two_districts):
    w = two_districts
    app = make_submitted(w.org_a, w.call, by=w.member_a)
    db.session.commit()
    login_as(client, w.staff_a)
    client.post(_url(app, "return"), data={"reason_basic": "<script>alert(1)</script>", "deadline": FUTURE})
    page = client.get(_url(app)).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --------------------------------------------------------------------------- optimistic locking


def test_second_decision_on_a_stale_page_is_a_conflict(db, client, app, two_districts):
    """Two staff open the page; the first passes; the second's return (same page version) is refused."""
    w = two_districts
    app_row = make_submitted(w.org_a, w.call, by=w.member_a)
    db.session.commit()
    version = app_row.version_id
    first, second = client, app.test_client()
    login_as(first, w.staff_a)
    login_as(second, w.staff_city)
    assert first.post(_url(app_row, "pass"), data={"version": str(version)}).status_code == 302
    response = second.post(_url(app_row, "return"), data={**RETURN_OK, "version": str(version)})
    assert response.status_code == 409
    assert "已被其他工作人员处理或被申报单位修改，本次决定未保存" in response.get_data(as_text=True)
    app_row = _reload(db, app_row)
    assert app_row.status == S.PASSED
    assert len(db.session.scalars(select(StatusHistory).where(StatusHistory.object_id == app_row.id)).all()) == 1


def test_stale_page_conflicts_even_when_the_state_still_allows(db, client, two_districts):
    """The organisation resubmitted in between: same screenable state, newer version → conflict."""
    w = two_districts
    app = make_submitted(w.org_a, w.call, by=w.member_a)
    db.session.commit()
    old = app.version_id
    app.title = "改过的标题"
    db.session.commit()
    login_as(client, w.staff_a)
    response = client.post(_url(app, "reject"), data={"reason": "不符合。", "version": str(old)})
    assert response.status_code == 409
    assert _reload(db, app).status == S.SUBMITTED
    response = client.post(_url(app, "reject"), data={"reason": "不符合。", "version": "abc"})
    assert response.status_code == 409


def test_concurrent_write_between_read_and_flush_is_a_conflict(db, two_districts):
    """Another transaction bumps the row after we loaded it: the UPDATE matches nothing → conflict."""
    w = two_districts
    app = make_submitted(w.org_a, w.call, by=w.member_a)
    db.session.commit()
    with db.engine.begin() as conn:  # a second connection, as a second web process would
        conn.execute(update(Application.__table__).where(Application.__table__.c.id == app.id).values(version_id=app.version_id + 1))
    with pytest.raises(services.DecisionConflict):
        services.pass_application(app, by=w.staff_a)
    db.session.rollback()
    assert _reload(db, app).status == S.SUBMITTED


def test_version_field_is_on_every_decision_form(db, client, two_districts):
    w = two_districts
    app = make_submitted(w.org_a, w.call, by=w.member_a)
    db.session.commit()
    login_as(client, w.staff_a)
    page = client.get(_url(app)).get_data(as_text=True)
    assert page.count(f'name="version" type="hidden" value="{app.version_id}"') == 3
