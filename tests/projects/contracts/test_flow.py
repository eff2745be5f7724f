"""The contract flow: each transition and refusal, amendments as versions, a signed contract never
regenerated, the 30-day and 2-working-day deadlines, bad uploads, permissions and the desk."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from incubator.accounts.models import Role
from incubator.core.files import StoredFile, read_bytes
from incubator.db import today_local, utcnow
from incubator.extensions import db
from incubator.projects.contracts import services
from incubator.projects.contracts.clauses import rmb_upper
from incubator.projects.contracts.models import ContractStatus
from incubator.projects.models import ProjectStatus, TrancheCondition, TrancheStatus
from tests.factories import make_district, make_user
from tests.projects.contracts.helpers import PDF_BYTES, contract_world, generated, in_force, png_bytes, upload

TODAY = today_local()


def refused(fn, *args, code=409, match=None, **kw):
    with pytest.raises(services.ContractError) as exc:
        fn(*args, **kw)
    assert exc.value.status_code == code, exc.value.message
    if match:
        assert match in exc.value.message, exc.value.message
    return exc.value


def files_count() -> int:
    return db.session.scalar(select(func.count()).select_from(StoredFile))


# ---------------------------------------------------------------- transitions

def test_generate_sign_countersign_publish(db):
    project, staff, member = contract_world()
    c = generated(project, staff)
    assert (c.status, c.version, c.parent_id) == (ContractStatus.GENERATED, 1, None)
    assert c.number == f"{project.number}-HT1"
    assert c.due_on == services.result_day(project) + timedelta(days=30)

    services.upload_org_signed(c, upload(), by=member)
    assert c.status == ContractStatus.ORG_SIGNED and c.org_signed_file is not None and c.org_signed_by_id == member.id

    services.countersign(c, upload(png_bytes(), "盖章.png", "image/png"), by=staff, signed_on=TODAY)
    assert c.status == ContractStatus.IN_FORCE and c.signed_on == TODAY
    assert c.publish_due_on == services.publish_due(TODAY)
    # the ON_SIGNING condition is met: the project is contracted and its first tranche requestable
    assert project.signed_on == TODAY and project.status == ProjectStatus.CONTRACTED
    first = project.tranches[0]
    assert first.condition == TrancheCondition.ON_SIGNING and first.status == TrancheStatus.REQUESTABLE
    assert project.tranches[1].status == TrancheStatus.PENDING

    services.publish(c, by=staff)
    assert c.published_at is not None
    refused(services.publish, c, by=staff, match="已公开")


def test_regenerate_only_before_the_organisation_signs(db):
    project, staff, member = contract_world()
    c = generated(project, staff)
    project.quantity = "服务老人300名"
    services.regenerate(c, by=staff)
    assert c.version == 1 and "服务老人300名" in str(c.content)
    services.attach_pdf(c)
    services.generate(project, by=staff)  # generate again = regenerate the open version
    assert len(services.contracts_of(project)) == 1
    services.attach_pdf(c)
    services.upload_org_signed(c, upload(), by=member)
    refused(services.regenerate, c, by=staff, match="不能重新生成")
    refused(services.generate, project, by=staff, match="不能重新生成")


def test_a_contract_in_force_is_never_regenerated(db):
    project, staff, member = contract_world()
    c = in_force(project, staff, member)
    pdf_id, content = c.pdf_file_id, dict(c.content)
    refused(services.regenerate, c, by=staff, match="合同变更")
    refused(services.generate, project, by=staff, match="合同变更")
    assert c.pdf_file_id == pdf_id and c.content == content


def test_refusals_in_the_wrong_state(db):
    project, staff, member = contract_world()
    c = services.generate(project, by=staff)
    refused(services.upload_org_signed, c, upload(), by=member, match="正在生成")  # PDF not rendered yet
    services.attach_pdf(c)
    refused(services.countersign, c, upload(), by=staff, signed_on=TODAY, match="尚未上传")
    refused(services.publish, c, by=staff, match="生效后")
    refused(services.amend, c, by=staff, reason="调整", match="已生效")
    services.upload_org_signed(c, upload(), by=member)
    refused(services.countersign, c, upload(), by=staff, signed_on=TODAY + timedelta(days=1), code=422)
    refused(services.countersign, c, upload(), by=staff, signed_on=TODAY - timedelta(days=400), code=422)
    refused(services.countersign, c, upload(), by=staff, signed_on=None, code=422)
    assert c.status == ContractStatus.ORG_SIGNED and project.signed_on is None
    services.countersign(c, upload(), by=staff, signed_on=TODAY)
    refused(services.countersign, c, upload(), by=staff, signed_on=TODAY, match="不能重复")
    refused(services.upload_org_signed, c, upload(), by=member, match="已生效")


def test_no_contract_without_a_tranche_schedule_or_for_a_closed_project(db):
    from incubator.projects import services as ps
    from tests.projects.helpers import launch, staff_for

    project = launch()
    staff = staff_for(project.org)
    refused(services.generate, project, by=staff, match="分期拨付计划")
    project2, staff2, _ = contract_world()
    ps.terminate_project(project2, by=staff2, reason="承接组织申请退出")
    refused(services.generate, project2, by=staff2, match="已终止")


def test_the_organisation_may_replace_its_scan_until_countersigned(db):
    project, staff, member = contract_world()
    c = generated(project, staff)
    services.upload_org_signed(c, upload(), by=member)
    first = c.org_signed_file_id
    services.upload_org_signed(c, upload(png_bytes(), "重新扫描.png", "image/png"), by=member)
    assert c.org_signed_file_id != first and c.status == ContractStatus.ORG_SIGNED


def test_staff_return_a_bad_scan_and_the_organisation_uploads_again(db):
    project, staff, member = contract_world()
    c = generated(project, staff)
    refused(services.return_org_signed, c, by=staff, reason="未盖章", match="待甲方盖章")
    services.upload_org_signed(c, upload(), by=member)
    refused(services.return_org_signed, c, by=member, reason="x", code=403)
    refused(services.return_org_signed, c, by=staff, reason=" ", code=422)
    services.return_org_signed(c, by=staff, reason="未加盖公章")
    assert c.status == ContractStatus.GENERATED and c.org_signed_file_id is None and c.return_reason == "未加盖公章"
    refused(services.countersign, c, upload(), by=staff, signed_on=TODAY, match="尚未上传")
    services.upload_org_signed(c, upload(), by=member)
    services.countersign(c, upload(), by=staff, signed_on=TODAY)
    assert c.status == ContractStatus.IN_FORCE


# ---------------------------------------------------------------- amendments

def test_amendment_is_a_new_version_and_supersedes_the_old_one_when_in_force(db):
    project, staff, member = contract_world()
    v1 = in_force(project, staff, member)
    services.publish(v1, by=staff)
    signed_day = project.signed_on
    refused(services.amend, v1, by=staff, reason="  ", code=422)
    project.quantity = "服务老人260名"
    v2 = services.amend(v1, by=staff, reason="服务数量增加")
    services.attach_pdf(v2)
    assert (v2.version, v2.parent_id, v2.number) == (2, v1.id, f"{project.number}-HT2")
    assert v2.status == ContractStatus.GENERATED and v1.status == ContractStatus.IN_FORCE
    assert "服务老人260名" in str(v2.content) and "服务老人260名" not in str(v1.content)
    assert v2.content["amends"]["number"] == v1.number and v2.content["amendment_reason"] == "服务数量增加"
    refused(services.amend, v1, by=staff, reason="再次变更", match="正在办理")
    assert services.current_contract(project).id == v2.id

    services.upload_org_signed(v2, upload(), by=member)
    services.countersign(v2, upload(), by=staff, signed_on=TODAY)
    assert v2.status == ContractStatus.IN_FORCE and v1.status == ContractStatus.SUPERSEDED
    assert v1.superseded_at is not None
    assert project.signed_on == signed_day  # the signing condition was met once, by version 1
    assert read_bytes(v1.countersigned_file) == PDF_BYTES  # the old one stays readable
    assert services.contract_in_force(project).id == v2.id
    assert [c.version for c in services.contracts_of(project)] == [2, 1]
    refused(services.regenerate, v1, by=staff)


# ---------------------------------------------------------------- deadlines

def test_signing_is_due_30_days_after_the_result(db):
    from incubator.projects import services as ps
    from incubator.publicity.models import FundingItem, FundingList, Publicity, PublicityStatus
    from tests.projects.helpers import END, START, funded_application, staff_for

    app = funded_application()
    item = db.session.scalar(select(FundingItem).where(FundingItem.application_id == app.id))
    flist = db.session.get(FundingList, item.list_id)
    db.session.add(Publicity(list_id=flist.id, call_id=flist.call_id, title="公示", starts_on=date(2026, 10, 12),
                             ends_on=date(2026, 10, 16), workdays=5, status=PublicityStatus.FINAL,
                             finalized_at=datetime(2026, 10, 19, 1, 0)))
    db.session.flush()
    staff = staff_for(app.org)
    grant = ps.launch_from_application(app, by=staff, term_start=START, term_end=END, budget_line="公益创投资金",
                                       budget_year=2026)
    assert services.result_day(grant) == date(2026, 10, 19)
    assert services.signing_due_on(grant) == date(2026, 11, 18)

    purchase, _, _ = contract_world()
    purchase.launched_at = datetime(2026, 11, 20, 2, 0)
    assert services.signing_due_on(purchase) == date(2026, 12, 20)


@pytest.mark.parametrize("today, state, note", [
    (date(2026, 12, 1), "ok", "还剩19天"),
    (date(2026, 12, 13), "soon", "还剩7天"),
    (date(2026, 12, 20), "soon", "今天到期"),
    (date(2026, 12, 21), "overdue", "已逾期1天"),
])
def test_deadline_warns_within_7_days_and_is_overdue_after(today, state, note):
    d = services.deadline("合同签订期限", date(2026, 12, 20), today=today)
    assert (d.state, d.note) == (state, note)


def test_done_deadline_says_when_and_whether_late():
    d = services.deadline("x", date(2026, 12, 8), done_on=date(2026, 12, 10))
    assert d.state == "done" and "逾期2天" in d.note


@pytest.mark.parametrize("signed_on, due", [
    (date(2026, 12, 1), date(2026, 12, 3)),    # Tuesday → Thursday
    (date(2026, 12, 4), date(2026, 12, 8)),    # Friday → over the weekend → Tuesday
    (date(2026, 9, 30), date(2026, 10, 9)),    # before the National Day holiday (1–8 Oct off)
    (date(2026, 10, 9), date(2026, 10, 12)),   # Saturday 10 Oct is an adjusted working day (调休)
])
def test_publication_is_due_2_working_days_after_signing(db, signed_on, due):
    assert services.publish_due(signed_on) == due


def test_countersign_with_a_weekend_and_a_holiday(db):
    project, staff, member = contract_world()
    c = generated(project, staff)
    c.generated_at = datetime(2026, 9, 1, 2, 0)
    services.upload_org_signed(c, upload(), by=member)
    services.countersign(c, upload(), by=staff, signed_on=date(2026, 9, 30))
    assert c.publish_due_on == date(2026, 10, 9)
    published = services.deadlines(project, c, today=date(2026, 10, 10))[1]
    assert published.state == "overdue"


def test_countersign_refused_when_the_calendar_of_next_year_is_unknown(db):
    """2027 is not in the package: the platform never guesses, nothing changes."""
    project, staff, member = contract_world()
    c = generated(project, staff)
    services.upload_org_signed(c, upload(), by=member)
    before = files_count()
    from incubator.core import workdays

    if workdays.package_knows(2027):
        pytest.skip("the calendar package knows 2027")
    c.generated_at = datetime(2026, 12, 1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(services, "today_local", lambda: date(2026, 12, 31))
        refused(services.countersign, c, upload(), by=staff, signed_on=date(2026, 12, 31), match="2027年")
    assert c.status == ContractStatus.ORG_SIGNED and files_count() == before


def test_deadlines_on_the_tab(db):
    project, staff, member = contract_world()
    due = services.signing_due_on(project)
    [only] = services.deadlines(project, None, today=due + timedelta(days=1))
    assert only.state == "overdue"
    c = generated(project, staff)
    [signing] = services.deadlines(project, c, today=c.due_on - timedelta(days=3))
    assert signing.state == "soon"


# ---------------------------------------------------------------- uploads

@pytest.mark.parametrize("data, name", [
    (b"<html><script>alert(1)</script></html>", "签章合同.pdf"),     # fake type
    (b"", "签章合同.pdf"),                                             # empty
    (PDF_BYTES, "签章合同.exe"),                                       # extension not allowed
    (b"GIF89a" + b"\x00" * 50, "签章合同.png"),                        # content does not match
])
def test_bad_scans_change_nothing(db, data, name):
    project, staff, member = contract_world()
    c = generated(project, staff)
    before = files_count()
    refused(services.upload_org_signed, c, upload(data, name), by=member, code=422)
    assert c.status == ContractStatus.GENERATED and c.org_signed_file_id is None and files_count() == before


def test_too_large_scan_changes_nothing(app, db):
    project, staff, member = contract_world()
    c = generated(project, staff)
    before = files_count()
    app.config["CONTRACT_SCAN_MAX_BYTES"] = len(PDF_BYTES) - 1
    try:
        refused(services.upload_org_signed, c, upload(), by=member, code=422, match="大小")
    finally:
        app.config.pop("CONTRACT_SCAN_MAX_BYTES")
    assert c.status == ContractStatus.GENERATED and files_count() == before


# ---------------------------------------------------------------- permissions

def test_only_district_staff_manage_and_only_members_upload(db):
    project, staff, member = contract_world()
    other = make_user(Role.STAFF, district=make_district(name="乙区", code="410399"))
    finance = make_user(Role.FINANCE)
    admin = make_user(Role.ADMIN)
    for who in (other, finance, admin, member):
        refused(services.generate, project, by=who, code=403)
    c = generated(project, staff)
    for who in (staff, finance, other):
        refused(services.upload_org_signed, c, upload(), by=who, code=403)
    services.upload_org_signed(c, upload(), by=member)
    for who in (other, finance, member):
        refused(services.countersign, c, upload(), by=who, signed_on=TODAY, code=403)
    city = make_user(Role.STAFF)
    services.countersign(c, upload(), by=city, signed_on=TODAY)
    for who in (other, finance, member):
        refused(services.publish, c, by=who, code=403)


# ---------------------------------------------------------------- templates

def test_templates_are_edited_without_code_and_signed_contracts_keep_their_text(db):
    from incubator.projects.models import ProjectKind

    project, staff, member = contract_world()
    v1 = in_force(project, staff, member)
    tpl = services.default_template(ProjectKind.PURCHASE)
    clauses, errors = services.check_clauses([("服务内容", "乙方提供{{服务内容}}，地点{{不存在}}。")])
    assert "{{不存在}}" in errors[0]
    clauses, errors = services.check_clauses([("服务内容", "乙方按时提供：{{服务内容}}"), ("", ""),
                                              ("保密条款", "乙方对服务对象信息负有保密义务。")])
    assert not errors and len(clauses) == 2
    services.update_template(tpl, name="新版购买服务合同", title="政府购买服务合同", clauses=clauses,
                             is_default=True, by=staff)
    assert "保密条款" not in str(v1.content)
    v2 = services.amend(v1, by=staff, reason="采用新版合同文本")
    assert [c["heading"] for c in v2.content["clauses"]] == ["服务内容", "保密条款"]
    assert v2.content["clauses"][0]["blocks"][0]["p"] == "乙方按时提供：为社区老人提供助餐、探访服务"
    refused(services.update_template, tpl, name="x", title="y", clauses=[], is_default=False, by=staff, code=422)
    refused(services.update_template, tpl, name="x", title="y", clauses=clauses, is_default=False, by=member,
            code=403)


def test_a_template_of_the_other_kind_is_refused(db):
    from incubator.projects.models import ProjectKind

    project, staff, _ = contract_world()
    grant_tpl = services.default_template(ProjectKind.GRANT)
    refused(services.generate, project, by=staff, template=grant_tpl, code=422)
    assert grant_tpl.title == "公益创投项目资助协议"


@pytest.mark.parametrize("amount, words", [
    ("100000.00", "壹拾万元整"), ("1005.30", "壹仟零伍元叁角"), ("36000", "叁万陆仟元整"),
    ("10000500.00", "壹仟万零伍佰元整"), ("0.05", "伍分"), ("12.05", "壹拾贰元零伍分"),
    ("200000008.00", "贰亿零捌元整"),
])
def test_amount_in_capitals(amount, words):
    from decimal import Decimal

    assert rmb_upper(Decimal(amount)) == words


# ---------------------------------------------------------------- desk and public

def test_desk_items_follow_the_contract(db, app):
    project, staff, member = contract_world()
    other = make_user(Role.STAFF, district=make_district(name="乙区", code="410399"))
    with app.test_request_context():
        titles = lambda u: [i.title for i in services.desk_items(u)]  # noqa: E731
        assert any("合同待生成" in t for t in titles(staff))
        assert titles(other) == [] and services.desk_items(make_user(Role.FINANCE)) == []
        c = generated(project, staff)
        assert any("等待承接组织签章" in t for t in titles(staff))
        assert any("合同待签章并上传" in t for t in titles(member))
        c.due_on = TODAY - timedelta(days=2)
        [item] = services.desk_items(staff)
        assert item.overdue and item.note == "已逾期2天" and item.url.endswith(f"/projects/{project.id}/contract")
        services.upload_org_signed(c, upload(), by=member)
        assert any("待甲方盖章会签" in t for t in titles(staff)) and titles(member) == []
        services.countersign(c, upload(), by=staff, signed_on=TODAY)
        [item] = services.desk_items(staff)
        assert "合同摘要待公开" in item.title and item.due == c.publish_due_on
        services.publish(c, by=staff)
        assert titles(staff) == []


def test_public_summary_has_no_personal_data_and_only_published_contracts(db):
    project, staff, member = contract_world()
    c = in_force(project, staff, member)
    assert db.session.scalars(services.published_contracts()).all() == []
    services.publish(c, by=staff)
    assert db.session.scalars(services.published_contracts("养老")).all() == [c]
    assert db.session.scalars(services.published_contracts("%")).all() == []
    s = services.public_summary(c)
    assert s["party_b"] == project.org.name and s["amount"] == project.amount and s["signed_on"] == TODAY
    assert project.org.legal_rep not in str(s)


def test_demo_seed_brings_the_contract_in_force_and_published(db):
    from incubator.projects.contracts import demo
    from tests.projects.helpers import launch, make_member, staff_for

    project = launch()
    staff, member = staff_for(project.org), make_member(project.org)
    c = demo.seed(project, staff=staff, org_user=member)
    assert c.status == ContractStatus.IN_FORCE and c.published_at is not None
    assert read_bytes(c.org_signed_file).startswith(b"%PDF") and project.signed_on == TODAY
    assert project.tranches[0].status == TrancheStatus.REQUESTABLE
    assert demo.seed(project, staff=staff, org_user=member).id == c.id  # a second run changes nothing


def test_desk_runs_a_constant_number_of_queries(db, app):
    from sqlalchemy import event

    _, staff, _ = contract_world()
    with app.test_request_context():
        def count():
            n = [0]

            def on(*a, **k):
                n[0] += 1
            event.listen(db.engine, "before_cursor_execute", on)
            try:
                items = services.desk_items(staff)
            finally:
                event.remove(db.engine, "before_cursor_execute", on)
            return n[0], len(items)
        small, items1 = count()
        from tests.projects.helpers import make_org, scheduled

        for i in range(4):  # four more projects in the district, two with a contract
            proj, _ = scheduled(org=make_org(district=staff.district), by=staff)
            if i % 2:
                generated(proj, staff)
        large, items2 = count()
    assert items2 == items1 + 4 and large == small


def test_two_staff_at_once_the_second_gets_a_conflict(db):
    """version_id: a colleague published the contract meanwhile; this session's publish does not overwrite."""
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    from incubator.projects.contracts.models import Contract

    project, staff, member = contract_world()
    c = in_force(project, staff, member)
    db.session.commit()
    with Session(db.engine) as other:
        theirs = other.get(Contract, c.id)
        theirs.published_at = utcnow()
        other.commit()
    c.published_at = utcnow()  # this session still holds the old version
    with pytest.raises(StaleDataError):
        db.session.flush()
    db.session.rollback()
