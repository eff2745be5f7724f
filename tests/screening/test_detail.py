"""The screening page: the whole application read-only, eligibility, history, versions and their diff."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from incubator.applications import services as app_services
from incubator.applications.forms import parse_draft
from incubator.applications.models import Application, ApplicationStatus
from incubator.db import today_local
from incubator.notifications.models import Notification
from incubator.orgs.models import CreditKind, CreditRecord
from tests.applications.helpers import add_attachment_type, form_data, pdf_upload, submitted_application
from tests.conftest import login_as
from tests.screening.helpers import make_submitted

S = ApplicationStatus


def test_detail_shows_the_whole_application(db, client, two_districts):
    w = two_districts
    app = make_submitted(w.org_a, w.call, by=w.member_a)
    db.session.commit()
    login_as(client, w.staff_a)
    response = client.get(f"/staff/applications/{app.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for text in (app.number, "“银龄互助”社区居家养老服务项目", "甲区阳光社工服务中心", "辖区老龄化率达23%", "需求调研与志愿者招募",
                 "周敏", "社区探访活动", "¥36,000.00", "¥24,000.00", "¥60,000.00", "6217 0000 1234 5678",
                 "符合本批次申报条件", "通过资格审查", "退回修改", "不通过", "（占 60.0%，上限 60%）"):
        assert text in page, text
    # personnel 18,000 of 60,000 = 30.0 % against its 30 % cap
    assert re.search(r"人员及志愿者补贴</td><td class=\"text-end font-monospace\">¥18,000.00</td><td class=\"text-end\">30.0%", page)


def test_detail_shows_eligibility_problems_with_reasons(db, client, two_districts):
    w = two_districts
    db.session.add(CreditRecord(org_id=w.org_a.id, kind=CreditKind.DEBARMENT, reason="违反资助协议", source="洛民〔2025〕9号",
                                start_on=today_local() - timedelta(days=30)))
    app = make_submitted(w.org_a, w.call, by=w.member_a)
    db.session.commit()
    login_as(client, w.staff_city)
    page = client.get(f"/staff/applications/{app.id}").get_data(as_text=True)
    assert "不符合申报条件" in page
    assert "处于禁入期内" in page and "洛民〔2025〕9号" in page and "违反资助协议" in page
    assert 'data-testid="decision-flags"' in page


def test_decided_application_has_no_decision_form(db, client, two_districts):
    w = two_districts
    app = make_submitted(w.org_a, w.call, by=w.member_a, status=S.REJECTED)
    db.session.commit()
    login_as(client, w.staff_a)
    page = client.get(f"/staff/applications/{app.id}").get_data(as_text=True)
    assert 'data-testid="no-decision"' in page and 'data-testid="pass-form"' not in page


def test_return_revise_resubmit_pass(db, client, app, two_districts):
    """The whole screening loop with the applications domain's real submission."""
    w = two_districts
    kind = add_attachment_type(w.call, required=False)
    member = w.member_a
    application = app_services.start_application(w.call, org=w.org_a, by=member)
    app_services.save_draft(application, draft=parse_draft(MultiDict(form_data(w.call, bank_account_name=w.org_a.name)), w.call), by=member)
    att = app_services.add_attachment(application, slot=f"type:{kind.id}", upload=pdf_upload("登记证书.pdf"), by=member)
    app_services.submit(application, by=member)
    db.session.commit()
    staff = client
    login_as(staff, w.staff_a)

    # the attachment is downloadable by staff in scope, through the permission-checked route
    page = staff.get(f"/staff/applications/{application.id}").get_data(as_text=True)
    link = f"/applications/{application.id}/files/{att.file_id}"
    assert link in page
    download = staff.get(link)
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    download.close()
    other = app.test_client()
    login_as(other, w.staff_b)
    assert other.get(link).status_code in (403, 404)
    assert other.get(f"/staff/applications/{application.id}").status_code == 404

    # staff return it
    deadline = today_local() + timedelta(days=7)
    response = staff.post(f"/staff/applications/{application.id}/return", data={
        "reason_basic": "项目名称过于宽泛。", "reason_budget": "宣传物料费用偏高。", "deadline": deadline.isoformat(),
        "version": str(application.version_id),
    })
    assert response.status_code == 302
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert application.status == S.RETURNED
    assert application.can_edit(member)

    # the member revises and resubmits (applications domain)
    revised = form_data(w.call, bank_account_name=w.org_a.name, title="“银龄互助”翠云社区独居老人探访项目",
                        **{"budget-2-unit_price": "8000"})
    app_services.submit(application, by=member, draft=parse_draft(MultiDict(revised), w.call))
    db.session.commit()
    assert application.status == S.RESUBMITTED and len(application.versions) == 2

    # staff see both versions and the difference
    response = staff.get(f"/staff/applications/{application.id}")
    page = response.get_data(as_text=True)
    assert "修改对比：第1版 → 第2版" in page
    assert "<del>“银龄互助”社区居家养老服务项目</del>" in page
    assert "<ins>“银龄互助”翠云社区独居老人探访项目</ins>" in page
    assert "项目名称过于宽泛。" in page and "已修改" in page
    assert "¥62,000.00" in page  # the new total (36,000 + 18,000 + 8,000)
    first = staff.get(f"/staff/applications/{application.id}?v=1").get_data(as_text=True)
    assert "¥60,000.00" in first and 'nav-link py-1 active" href="/staff/applications/%d?v=1"' % application.id in first
    # the resubmitted one is back in the queue
    assert application.number in staff.get("/staff/applications/").get_data(as_text=True)

    # staff pass it
    response = staff.post(f"/staff/applications/{application.id}/pass", data={"version": str(application.version_id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == S.PASSED

    # the member saw each step
    titles = [n.title for n in db.session.scalars(select(Notification).where(Notification.user_id == member.id).order_by(Notification.id))]
    assert titles == [
        f"申报书已提交：{application.number}",
        f"申报书退回修改：{application.number}",
        f"申报书已重新提交：{application.number}",
        f"资格审查通过：{application.number}",
    ]
    member_client = app.test_client()
    login_as(member_client, member)
    mine = member_client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "资格审查通过" in mine and "退回修改" in mine


def test_real_submission_shows_in_the_queue_and_nav(db, client, two_districts):
    w = two_districts
    application = submitted_application(w.call, w.org_a, by=w.member_a)
    db.session.commit()
    login_as(client, w.staff_a)
    page = client.get("/staff/applications/").get_data(as_text=True)
    assert application.number in page
    assert re.search(r"<span>资格审查</span>\s*<span class=\"badge[^>]*>1</span>", page)
