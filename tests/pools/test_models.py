"""Expert pool: model, state machine, services (active_experts, expert_for_user, conflict_profile)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError

from incubator.accounts.models import PasswordToken, Role, TokenPurpose, User
from incubator.core import states
from incubator.core.audit import AuditLog
from incubator.core.mail import OutgoingMail
from incubator.orgs.models import ServiceField
from incubator.pools import services
from incubator.pools.models import Expert, ExpertStatus, ExpertUnavailability, RelationKind
from incubator.review import conflicts
from tests.factories import make_district, make_org, make_user
from tests.pools.helpers import add_relation, add_unavailable, make_expert

DAY = date(2026, 6, 1)


def _details(**kw) -> services.ExpertDetails:
    values = dict(name="张明", mobile="139 0379 1234", email="ZhangMing@HAUST.edu.cn", employer="河南科技大学",
                  title="教授", fields=[ServiceField.ELDERLY, ServiceField.HEALTH], max_reviews_per_round=8)
    values.update(kw)
    return services.ExpertDetails(**values)


def test_relation_kinds_are_the_conflict_modules_kinds():
    assert tuple(k.value for k in RelationKind) == conflicts.RELATION_KINDS


def test_field_values_email_domain_and_availability(db):
    e = make_expert(fields=[ServiceField.ELDERLY, ServiceField.YOUTH], email="li@Haust.EDU.cn")
    assert e.field_values == {ServiceField.ELDERLY, ServiceField.YOUTH}
    assert e.email == "li@haust.edu.cn" and e.email_domain == "haust.edu.cn"
    add_unavailable(e, date(2026, 6, 10), date(2026, 6, 12))
    assert e.available_on(date(2026, 6, 9))
    assert not e.available_on(date(2026, 6, 10)) and not e.available_on(date(2026, 6, 12))
    assert e.available_on(date(2026, 6, 13))


def test_database_refuses_bad_rows(db):
    e = make_expert()
    db.session.add(ExpertUnavailability(expert_id=e.id, start_on=date(2026, 6, 2), end_on=date(2026, 6, 1)))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    e = make_expert()
    e.max_reviews_per_round = 0
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    user = make_user(Role.EXPERT)
    make_expert(user=user)
    with pytest.raises(IntegrityError):  # one expert record per login
        make_expert(user=user, email="other@x.cn", mobile="13700000001")


TRANSITIONS = [
    (ExpertStatus.ACTIVE, ExpertStatus.SUSPENDED, True),
    (ExpertStatus.ACTIVE, ExpertStatus.REMOVED, True),
    (ExpertStatus.SUSPENDED, ExpertStatus.ACTIVE, True),
    (ExpertStatus.SUSPENDED, ExpertStatus.REMOVED, True),
    (ExpertStatus.REMOVED, ExpertStatus.ACTIVE, True),
    (ExpertStatus.REMOVED, ExpertStatus.SUSPENDED, False),
    (ExpertStatus.ACTIVE, ExpertStatus.ACTIVE, False),
    (ExpertStatus.SUSPENDED, ExpertStatus.SUSPENDED, False),
    (ExpertStatus.REMOVED, ExpertStatus.REMOVED, False),
]


@pytest.mark.parametrize("start,to,allowed", TRANSITIONS, ids=lambda v: getattr(v, "value", v))
def test_status_machine(db, start, to, allowed):
    city = make_user(Role.STAFF)
    e = make_expert(status=start)
    if allowed:
        services.change_status(e, by=city, to=to, reason="原因")
        assert e.status == to
        assert e.status_reason == (None if to == ExpertStatus.ACTIVE else "原因")
        hist = states.history(e)
        assert [(h.from_status, h.to_status, h.note) for h in hist] == [(start.value, to.value, "原因")]
        assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == f"expert.{to.value}"))
    else:
        with pytest.raises(states.InvalidTransition):
            services.change_status(e, by=city, to=to, reason="原因")


def test_status_change_needs_city_staff_and_reason(db):
    district_staff = make_user(Role.STAFF, district=make_district())
    e = make_expert()
    with pytest.raises(services.NotPermitted):
        services.change_status(e, by=district_staff, to=ExpertStatus.SUSPENDED, reason="x")
    with pytest.raises(services.InvalidValue):
        services.change_status(e, by=make_user(Role.ADMIN), to=ExpertStatus.SUSPENDED, reason="  ")
    assert e.status == ExpertStatus.ACTIVE


def test_active_experts_excludes_suspended_and_removed_and_loads_everything(db, app):
    a = make_expert()
    s = make_expert(status=ExpertStatus.SUSPENDED)
    r = make_expert()
    services.change_status(r, by=make_user(Role.ADMIN), to=ExpertStatus.REMOVED, reason="出库")
    add_relation(a, make_org())
    add_unavailable(a, DAY, DAY)
    db.session.commit()
    db.session.expire_all()
    from sqlalchemy import event

    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        experts = services.active_experts()
        [(x.field_values, list(x.relations), list(x.unavailable)) for x in experts]
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert [x.id for x in experts] == [a.id]
    assert s.id not in {x.id for x in experts} and r.id not in {x.id for x in experts}
    assert len(statements) == 4  # experts + fields + relations + unavailable, whatever the number of rows


def test_expert_for_user(db):
    e = make_expert()
    assert services.expert_for_user(e.user).id == e.id
    assert services.expert_for_user(make_user(Role.EXPERT)) is None
    assert services.expert_for_user(make_user(Role.STAFF)) is None


# --- conflict_profile matches incubator/review/conflicts.py -----------------------------------------


def test_conflict_profile_shape(db):
    org = make_org()
    e = make_expert(email="wang@haust.edu.cn", employer_uscc=org.uscc, employer_org_id=org.id)
    add_relation(e, org, kind=RelationKind.DIRECTOR, start_on=date(2020, 1, 1), end_on=date(2024, 1, 1))
    add_relation(e, None, kind=RelationKind.OTHER, org_name="名录外的公司")  # no key: cannot match
    profile = services.conflict_profile(e)
    assert set(profile) == {"id", "employer_org_id", "employer_uscc", "email_domain", "relations"}
    assert profile["employer_org_id"] == org.id and profile["employer_uscc"] == org.uscc
    assert profile["email_domain"] == "haust.edu.cn"
    assert set(profile["relations"]) == {
        conflicts.Relation(org=org.id, kind="director", start=date(2020, 1, 1), end=date(2024, 1, 1)),
        conflicts.Relation(org=org.uscc, kind="director", start=date(2020, 1, 1), end=date(2024, 1, 1)),
    }
    assert isinstance(services.conflict_expert(e), conflicts.Expert)


def test_detect_finds_conflicts_from_pool_records(db):
    employer = make_org(name="洛阳市洛龙区阳光社会工作服务中心")
    advised = make_org(name="洛阳市慈善救助基金会")
    by_code_only = make_org(name="洛阳市西工区春苗青少年发展中心")
    old = make_org(name="洛阳市涧西区启明助残服务中心")
    clean = make_org(name="洛阳市老城区牡丹文化传承协会")

    # Employer matched by USCC through the create service (employer_org_id filled automatically).
    staff = make_user(Role.STAFF)
    e1 = services.create_expert(by=staff, base_url="http://x", details=_details(employer_uscc=employer.uscc))
    assert e1.employer_org_id == employer.id
    e2 = make_expert(email="zhao@lynu.edu.cn")
    services.add_relation(e2, by=staff, kind=RelationKind.ADVISOR, org_id=advised.id, start_on=date(2023, 1, 1))
    # Free text with the USCC of a registered organisation: linked by its code.
    services.add_relation(e2, by=staff, kind=RelationKind.MENTORING, org_name="春苗", org_uscc=by_code_only.uscc)
    # Ended more than 3 years before the draw: no conflict.
    services.add_relation(e2, by=staff, kind=RelationKind.EMPLOYED, org_id=old.id, start_on=date(2015, 1, 1),
                          end_on=date(2022, 5, 31))
    experts = [services.conflict_expert(x) for x in services.active_experts()]
    apps = [conflicts.Applicant(id=i, org_id=o.id, uscc=o.uscc, email_domains=["lynu.edu.cn"] if o is clean else [])
            for i, o in enumerate([employer, advised, by_code_only, old, clean], start=100)]
    found = conflicts.detect(apps, experts, on=DAY)
    assert found[(100, e1.id)] == [conflicts.REASON_EMPLOYER]
    assert found[(101, e2.id)] == [conflicts.RELATION_REASONS["advisor"]]
    assert found[(102, e2.id)] == [conflicts.RELATION_REASONS["mentoring"]]
    assert (103, e2.id) not in found
    assert found[(104, e2.id)] == [conflicts.REASON_EMAIL.format(domain="lynu.edu.cn")]
    assert set(found) == {(100, e1.id), (101, e2.id), (102, e2.id), (104, e2.id)}


# --- creating -------------------------------------------------------------------------------------


def test_create_expert_creates_account_and_sends_invitation(db):
    staff = make_user(Role.STAFF)
    e = services.create_expert(by=staff, details=_details(), base_url="https://pt.example.cn")
    assert (e.name, e.mobile, e.email, e.status) == ("张明", "13903791234", "zhangming@haust.edu.cn", ExpertStatus.ACTIVE)
    assert e.user.role == Role.EXPERT and e.user.email == e.email and e.user.mobile == e.mobile
    assert db.session.scalar(db.select(PasswordToken).where(PasswordToken.user_id == e.user_id,
                                                            PasswordToken.purpose == TokenPurpose.INVITE))
    mail = db.session.scalar(db.select(OutgoingMail).where(OutgoingMail.to == e.email))
    assert mail is not None and "https://pt.example.cn/password/reset/" in mail.body
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "expert.created", AuditLog.object_id == e.id))


def test_create_links_an_unlinked_expert_account(db):
    user = make_user(Role.EXPERT, email="zhangming@haust.edu.cn")
    e = services.create_expert(by=make_user(Role.ADMIN), details=_details(), base_url="http://x")
    assert e.user_id == user.id
    assert db.session.scalar(db.select(db.func.count(User.id)).where(User.role == Role.EXPERT)) == 1


@pytest.mark.parametrize("owner_role", [Role.APPLICANT, Role.STAFF, Role.ADMIN])
def test_create_refuses_another_roles_account(db, owner_role):
    make_user(owner_role, email="zhangming@haust.edu.cn", org=make_org() if owner_role == Role.APPLICANT else None)
    with pytest.raises(services.DuplicateExpert, match="其他账号"):
        services.create_expert(by=make_user(Role.STAFF), details=_details(), base_url="http://x")


def test_create_refuses_duplicates_in_the_pool(db):
    staff = make_user(Role.STAFF)
    services.create_expert(by=staff, details=_details(), base_url="http://x")
    with pytest.raises(services.DuplicateExpert, match="手机号已在专家库"):
        services.create_expert(by=staff, details=_details(email="other@x.cn"), base_url="http://x")
    with pytest.raises(services.DuplicateExpert, match="邮箱已在专家库"):
        services.create_expert(by=staff, details=_details(mobile="13700000000", email=" ZHANGMING@haust.edu.cn"),
                               base_url="http://x")


def test_district_staff_add_and_edit_only_their_district(db):
    a, b = make_district(), make_district()
    staff_a = make_user(Role.STAFF, district=a)
    with pytest.raises(services.NotPermitted):
        services.create_expert(by=staff_a, details=_details(district_id=b.id), base_url="http://x")
    e = services.create_expert(by=staff_a, details=_details(district_id=a.id), base_url="http://x")
    other = make_expert(district_id=b.id)
    assert services.can_edit(e, staff_a) and not services.can_edit(other, staff_a)
    with pytest.raises(services.NotPermitted):
        services.update_expert(other, by=staff_a, details=_details(email="o@x.cn", mobile="13700000009", district_id=a.id))


def test_update_keeps_the_login_account_in_step(db):
    staff = make_user(Role.STAFF)
    e = services.create_expert(by=staff, details=_details(), base_url="http://x")
    org = make_org()
    changed = services.update_expert(e, by=staff, details=_details(email="new@lit.edu.cn", employer_uscc=org.uscc,
                                                                      fields=[ServiceField.YOUTH]))
    assert changed and e.user.email == "new@lit.edu.cn" and e.employer_org_id == org.id
    assert e.field_values == {ServiceField.YOUTH}
    row = db.session.scalar(db.select(AuditLog).where(AuditLog.action == "expert.updated"))
    assert row.before["email"] == "zhangming@haust.edu.cn" and row.after["email"] == "new@lit.edu.cn"
    assert not services.update_expert(e, by=staff, details=_details(email="new@lit.edu.cn", employer_uscc=org.uscc,
                                                                       fields=[ServiceField.YOUTH]))


def test_relations_and_unavailability_rules(db):
    e = make_expert()
    other = make_expert()
    with pytest.raises(services.NotPermitted):
        services.add_relation(e, by=other.user, kind=RelationKind.ADVISOR, org_name="x")
    with pytest.raises(services.InvalidValue):
        services.add_relation(e, by=e.user, kind=RelationKind.ADVISOR, org_name="x", start_on=DAY, end_on=date(2026, 1, 1))
    with pytest.raises(services.InvalidValue, match="校验位"):
        services.add_relation(e, by=e.user, kind=RelationKind.ADVISOR, org_name="x", org_uscc="52410302MJ0000001X")
    rel = services.add_relation(e, by=e.user, kind=RelationKind.JOINT_PROJECT, org_name="  某 公司 ")
    assert rel.org_name == "某 公司" and rel.org_id is None
    with pytest.raises(services.NotPermitted):  # an expert cannot withdraw a declaration
        services.delete_relation(rel, by=e.user)
    services.delete_relation(rel, by=make_user(Role.ADMIN))
    assert e.relations == []
    with pytest.raises(services.InvalidValue):
        services.add_unavailability(e, by=e.user, start_on=DAY, end_on=date(2026, 5, 1))
    with pytest.raises(services.InvalidValue, match="已经过去"):
        services.add_unavailability(e, by=e.user, start_on=date(2026, 5, 1), end_on=date(2026, 5, 2), today=DAY)
    row = services.add_unavailability(e, by=e.user, start_on=DAY, end_on=DAY, note="会议", today=DAY)
    assert not e.available_on(DAY)
    services.delete_unavailability(row, by=e.user)
    assert e.available_on(DAY)


def test_seed_experts(db):
    from incubator.demo import load_demo_data

    load_demo_data(DAY)
    experts = db.session.scalars(db.select(Expert)).all()
    assert len(experts) == 40
    assert {e.status for e in experts} == set(ExpertStatus)
    demo = db.session.scalar(db.select(User).where(User.email == "zhuanjia@demo.ly.gov.cn"))
    mine = services.expert_for_user(demo)
    assert mine is not None and mine.name == "李教授" and mine.relations
    assert all(e.fields for e in experts)
    assert sum(1 for e in experts if e.relations) >= 10
    assert sum(1 for e in experts if e.employer_org_id) == 3
    # The demo draw has conflicts to avoid, and no expert conflicts with every organisation.
    from incubator.orgs.models import Organization

    orgs = db.session.scalars(db.select(Organization)).all()
    apps = [conflicts.Applicant(id=o.id, org_id=o.id, uscc=o.uscc,
                                email_domains=[o.contact_email.split("@")[1]] if o.contact_email else []) for o in orgs]
    found = conflicts.detect(apps, [services.conflict_expert(e) for e in services.active_experts()], on=DAY)
    per_expert = {}
    for (_a, e_id) in found:
        per_expert[e_id] = per_expert.get(e_id, 0) + 1
    assert len(found) >= 8 and max(per_expert.values()) <= 3
