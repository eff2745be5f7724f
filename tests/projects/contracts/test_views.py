"""The contract pages: the tab per role, the actions through the forms, bad inputs (422 keeps what was typed,
409 for the wrong state), downloads, the template editor and the public pages (escaped, published only)."""
from __future__ import annotations

import io

from incubator.accounts.models import Role
from incubator.core.files import StoredFile
from incubator.db import today_local
from incubator.extensions import db
from incubator.projects.contracts import services
from incubator.projects.contracts.models import Contract, ContractStatus
from incubator.projects.models import ProjectKind
from tests.conftest import login_as
from tests.factories import make_district, make_user
from tests.projects.contracts.helpers import PDF_BYTES, contract_world, generated, in_force


def _client(app, user):
    c = app.test_client()
    login_as(c, user)
    return c


def _tab(project):
    return f"/projects/{project.id}/contract"


def test_staff_generate_then_org_uploads_then_staff_countersigns_and_publishes(app, db, run_jobs):
    project, staff, member = contract_world()
    db.session.commit()
    s = _client(app, staff)
    page = s.get(_tab(project)).get_data(as_text=True)
    assert "生成合同" in page and "合同签订期限" in page
    r = s.post(_tab(project) + "/generate", data={"template_id": ""})
    assert r.status_code == 303
    run_jobs()
    c = db.session.scalar(db.select(Contract))
    assert c.pdf_file_id is not None
    page = s.get(_tab(project)).get_data(as_text=True)
    assert "重新生成" in page and "下载合同文本" in page and 'data-confirm=' in page

    m = _client(app, member)
    r = m.get(f"{_tab(project)}/{c.id}/files/pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    assert "上传签章合同" in m.get(_tab(project)).get_data(as_text=True)
    r = m.post(f"{_tab(project)}/{c.id}/org-signed", data={"file": (io.BytesIO(PDF_BYTES), "签章.pdf")})
    assert r.status_code == 303
    db.session.expire_all()
    assert c.status == ContractStatus.ORG_SIGNED

    r = s.post(f"{_tab(project)}/{c.id}/countersign",
               data={"file": (io.BytesIO(PDF_BYTES), "双方.pdf"), "signed_on": today_local().isoformat()})
    assert r.status_code == 303
    db.session.expire_all()
    assert c.status == ContractStatus.IN_FORCE and project.signed_on == today_local()
    assert "公开合同摘要" in s.get(_tab(project)).get_data(as_text=True)
    r = s.post(f"{_tab(project)}/{c.id}/publish")
    assert r.status_code == 303
    page = s.get(_tab(project)).get_data(as_text=True)
    assert "已公开" in page and "办理合同变更" in page
    # wrong state: a second publication is refused with 409, generating again too
    assert s.post(f"{_tab(project)}/{c.id}/publish").status_code == 409
    assert s.post(_tab(project) + "/generate", data={}).status_code == 409


def test_bad_uploads_re_render_with_422_and_change_nothing(app, db):
    project, staff, member = contract_world()
    c = generated(project, staff)
    db.session.commit()
    m = _client(app, member)
    before = db.session.scalar(db.select(db.func.count()).select_from(StoredFile))
    for data, name in ((b"<svg onload=alert(1)></svg>", "签章.pdf"), (b"", "签章.pdf"), (PDF_BYTES, "x.php%00.pdf.exe")):
        r = m.post(f"{_tab(project)}/{c.id}/org-signed", data={"file": (io.BytesIO(data), name)})
        assert r.status_code == 422, name
        assert "上传失败" in r.get_data(as_text=True)
    r = m.post(f"{_tab(project)}/{c.id}/org-signed", data={})
    assert r.status_code == 422
    db.session.expire_all()
    assert c.status == ContractStatus.GENERATED
    assert db.session.scalar(db.select(db.func.count()).select_from(StoredFile)) == before


def test_countersign_form_keeps_input_on_a_bad_date(app, db):
    project, staff, member = contract_world()
    c = generated(project, staff)
    services.upload_org_signed(c, __import__("tests.projects.contracts.helpers", fromlist=["upload"]).upload(),
                               by=member)
    db.session.commit()
    s = _client(app, staff)
    r = s.post(f"{_tab(project)}/{c.id}/countersign", data={"file": (io.BytesIO(PDF_BYTES), "x.pdf"),
                                                            "signed_on": "2026-02-30"})
    assert r.status_code == 422 and "日期不存在" in r.get_data(as_text=True)
    r = s.post(f"{_tab(project)}/{c.id}/countersign", data={"file": (io.BytesIO(PDF_BYTES), "x.pdf"),
                                                            "signed_on": "2999-01-01"})
    assert r.status_code == 422 and "不能晚于今天" in r.get_data(as_text=True)
    db.session.expire_all()
    assert c.status == ContractStatus.ORG_SIGNED


def test_mass_assignment_is_ignored(app, db):
    project, staff, member = contract_world()
    c = generated(project, staff)
    db.session.commit()
    m = _client(app, member)
    m.post(f"{_tab(project)}/{c.id}/org-signed", data={"file": (io.BytesIO(PDF_BYTES), "签章.pdf"),
                                                      "status": "in_force", "signed_on": "2026-01-01"})
    db.session.expire_all()
    assert c.status == ContractStatus.ORG_SIGNED and c.signed_on is None


def test_finance_reads_only_and_other_district_gets_404(app, db):
    project, staff, member = contract_world()
    c = in_force(project, staff, member)
    db.session.commit()
    f = _client(app, make_user(Role.FINANCE))
    page = f.get(_tab(project)).get_data(as_text=True)
    assert c.number in page and "办理合同变更" not in page and "公开合同摘要" not in page
    assert f.get(f"{_tab(project)}/{c.id}/files/countersigned").status_code == 200
    assert f.post(f"{_tab(project)}/{c.id}/publish").status_code == 403
    other = _client(app, make_user(Role.STAFF, district=make_district(name="乙区", code="410399")))
    assert other.get(_tab(project)).get_data(as_text=True) and other.get(_tab(project)).status_code == 404
    assert other.get(f"{_tab(project)}/{c.id}/files/pdf").status_code == 404
    # a contract of another project through this project's URL
    p2, staff2, member2 = contract_world()
    c2 = generated(p2, staff2)
    db.session.commit()
    assert _client(app, staff).get(f"{_tab(project)}/{c2.id}/files/pdf").status_code in (403, 404)


def test_amend_needs_a_reason(app, db):
    project, staff, member = contract_world()
    in_force(project, staff, member)
    db.session.commit()
    s = _client(app, staff)
    r = s.post(_tab(project) + "/amend", data={"reason": ""})
    assert r.status_code == 422
    r = s.post(_tab(project) + "/amend", data={"reason": "服务期限延长三个月"})
    assert r.status_code == 303
    page = s.get(_tab(project)).get_data(as_text=True)
    assert "第2版 · 变更" in page and "服务期限延长三个月" in page and "已生效" in page


def test_template_editor_refuses_unknown_placeholders_and_keeps_the_text(app, db):
    tpl = services.default_template(ProjectKind.PURCHASE)
    staff = make_user(Role.STAFF)
    db.session.commit()
    s = _client(app, staff)
    page = s.get(f"/staff/contract-templates/{tpl.id}").get_data(as_text=True)
    assert "资金结算方式" in page and "{{服务内容}}" in page
    r = s.post(f"/staff/contract-templates/{tpl.id}", data={
        "name": "模板", "title": "政府购买服务合同", "heading": ["服务内容", "其他"],
        "body": ["乙方提供{{服务内容}}和{{未知项}}", "<script>alert(1)</script>"]})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "未知的占位符" in body and "{{未知项}}" in body
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body
    r = s.post(f"/staff/contract-templates/{tpl.id}", data={
        "name": "模板", "title": "政府购买服务合同", "heading": ["服务内容", "其他"],
        "body": ["乙方提供{{服务内容}}", "本合同一式四份。"]})
    assert r.status_code == 303
    db.session.expire_all()
    assert [c["heading"] for c in tpl.clauses] == ["服务内容", "其他"]
    assert "合同模板" in s.get("/staff/contract-templates").get_data(as_text=True)
    r = s.post("/staff/contract-templates/new", data={"kind": "grant", "name": "2027年度资助协议"})
    assert r.status_code == 303
    assert _client(app, make_user(Role.FINANCE)).get("/staff/contract-templates").status_code == 403


def test_public_pages_show_published_summaries_only_escaped(app, db):
    project, staff, member = contract_world(title="<script>alert(1)</script>助老项目")
    c = in_force(project, staff, member)
    p2, staff2, member2 = contract_world(title="未公开的项目")
    in_force(p2, staff2, member2)
    db.session.commit()
    anon = app.test_client()
    page = anon.get("/contracts").get_data(as_text=True)
    assert "目前没有公开的合同" in page
    services.publish(c, by=staff)
    db.session.commit()
    page = anon.get("/contracts").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;助老项目" in page and "<script>alert(1)" not in page
    assert "未公开的项目" not in page
    detail = anon.get(f"/contracts/{c.id}").get_data(as_text=True)
    assert project.org.name in detail and "¥100,000.00" in detail and "为社区老人提供助餐" in detail
    assert project.org.legal_rep not in detail and "files/" not in detail
    assert anon.get(f"/contracts/{c.id + 1}").status_code == 404
    assert "没有找到" in anon.get("/contracts?q=不存在的关键词").get_data(as_text=True)
    assert "没有找到" in anon.get("/contracts?kind=grant").get_data(as_text=True)
    assert "助老项目" in anon.get("/contracts?kind=purchase&q=助老").get_data(as_text=True)
    assert anon.get("/contracts?q=' OR 1=1--&page=-1").status_code == 200


def test_return_form_needs_a_reason_and_shows_it_to_the_organisation(app, db):
    from tests.projects.contracts.helpers import upload

    project, staff, member = contract_world()
    c = generated(project, staff)
    services.upload_org_signed(c, upload(), by=member)
    db.session.commit()
    s = _client(app, staff)
    assert s.post(f"{_tab(project)}/{c.id}/return", data={"reason": ""}).status_code == 422
    assert s.post(f"{_tab(project)}/{c.id}/return", data={"reason": "缺少法定代表人签字"}).status_code == 303
    page = _client(app, member).get(_tab(project)).get_data(as_text=True)
    assert "签章件已被退回：缺少法定代表人签字" in page and "上传签章合同" in page
