"""The panel draw on the database: commitment before, seed after, digests, replay (CLI), refusals,
conflicts never assigned, replacements with a derived seed."""
from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import pytest

from incubator.accounts.models import Role
from incubator.core.audit import AuditLog
from incubator.db import utcnow
from incubator.extensions import db
from incubator.orgs.models import ServiceField
from incubator.pools.models import ExpertUnavailability
from incubator.review import draw, draw_audit, services
from incubator.review.models import (
    Assignment,
    AssignmentStatus,
    Conflict,
    ConflictSource,
    Draw,
    DrawPurpose,
    DrawStatus,
    RoundStatus,
)
from tests.applications.helpers import make_call, make_org
from tests.factories import make_user
from tests.review.factories import drawn_round, make_expert, make_passed, make_round, relate


@pytest.fixture()
def world(db):
    staff = make_user(Role.STAFF)
    call = make_call()
    orgs = [make_org(contact_email=f"office@org{i}.org.cn") for i in range(4)]
    apps = [make_passed(o, call) for o in orgs]
    return staff, call, orgs, apps


def _run(app, *args):
    runner = app.test_cli_runner()
    return runner.invoke(args=["review", *args])


def test_draw_end_to_end_commitment_then_seed_then_replay(app, world):
    staff, call, orgs, apps = world
    [make_expert(fields=(ServiceField.ELDERLY,)) for _ in range(6)]
    r = make_round(call, by=staff, k=3, max_load=2)
    assert services.add_entries(r, apps, by=staff) == 4
    d = draw.commit_seed(r, by=staff)
    db.session.commit()
    # before the draw: a commitment, no visible seed, nothing assigned
    assert d.status == DrawStatus.COMMITTED and d.public_seed is None
    assert len(d.commitment) == 64 and d.committed_at is not None
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 0
    committed = d.commitment

    draw.run_draw(r, by=staff, check_timing=False)
    db.session.commit()
    assert r.status == RoundStatus.DRAWN
    assert d.commitment == committed  # unchanged
    assert d.public_seed is not None and hashlib.sha256(d.public_seed.encode()).hexdigest() == committed
    assert d.revealed_at >= d.committed_at
    assert d.inputs_digest == hashlib.sha256(d.inputs.encode()).hexdigest()
    stored = json.loads(d.inputs)
    assert stored["k"] == 3 and [a for a, _ in stored["applications"]] == sorted(a.id for a in apps)
    assert all(load == 2 for _, _, load in stored["experts"])
    rows = db.session.scalars(db.select(Assignment).where(Assignment.round_id == r.id)).all()
    assert len(rows) == 12
    per_expert = {}
    for a in rows:
        per_expert[a.expert_id] = per_expert.get(a.expert_id, 0) + 1
        assert a.draw_id == d.id and a.status == AssignmentStatus.ASSIGNED
    assert max(per_expert.values()) <= 2
    assert draw_audit.replay(d.inputs, d.seed, d.result_digest, stored_commitment=d.commitment,
                             stored_inputs_digest=d.inputs_digest)
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "review_draw.reveal")) is not None

    result = _run(app, "replay", str(r.id))
    assert result.exit_code == 0, result.output
    assert "一致" in result.output and "MATCH" in result.output

    # tamper with the stored inputs: replay fails
    data = json.loads(d.inputs)
    data["experts"][0][2] = 1
    d.inputs = json.dumps(data, separators=(",", ":"))
    db.session.commit()
    result = _run(app, "replay", str(r.id))
    assert result.exit_code == 1, result.output
    assert "不一致" in result.output and "MISMATCH" in result.output


def test_replay_fails_when_an_assignment_is_changed_or_the_seed_is_swapped(app, world):
    staff, call, orgs, apps = world
    r, experts = drawn_round(call, apps, 6, by=staff, max_load=2)
    db.session.commit()
    d = r.initial_draw
    a = db.session.scalars(db.select(Assignment).where(Assignment.round_id == r.id)).first()
    used = {x.expert_id for x in db.session.scalars(db.select(Assignment).where(
        Assignment.application_id == a.application_id, Assignment.round_id == r.id))}
    other = next(e for e in experts if e.id not in used)
    original = a.expert_id
    a.expert_id = other.id
    db.session.commit()
    assert _run(app, "replay", str(r.id)).exit_code == 1
    a.expert_id = original
    db.session.commit()
    assert _run(app, "replay", str(r.id)).exit_code == 0
    d.seed = draw_audit.new_seed()
    db.session.commit()
    assert _run(app, "replay", str(r.id)).exit_code == 1


def test_replay_of_unknown_or_undrawn_round_exits_non_zero(app, world):
    staff, call, orgs, apps = world
    r = make_round(call, by=staff)
    db.session.commit()
    assert _run(app, "replay", str(r.id)).exit_code != 0
    assert _run(app, "replay", "999999").exit_code != 0
    assert _run(app, "replay", "abc").exit_code != 0


def test_run_needs_a_commitment_first_and_commits_only_once(world):
    staff, call, orgs, apps = world
    [make_expert() for _ in range(3)]
    r = make_round(call, by=staff)
    services.add_entries(r, apps[:1], by=staff)
    with pytest.raises(draw.DrawRefused, match="请先生成随机种子"):
        draw.run_draw(r, by=staff, check_timing=False)
    draw.commit_seed(r, by=staff)
    with pytest.raises(services.ReviewError, match="已生成随机种子"):
        draw.commit_seed(r, by=staff)


def test_infeasible_draw_is_refused_with_the_applications_and_nothing_assigned(world):
    staff, call, orgs, apps = world
    experts = [make_expert() for _ in range(3)]
    # the first expert works for org 0: app 0 has only 2 eligible experts
    experts[0].employer_uscc = orgs[0].uscc
    r = make_round(call, by=staff, k=3)
    services.add_entries(r, apps, by=staff)
    d = draw.commit_seed(r, by=staff)
    with pytest.raises(draw.DrawRefused) as exc:
        draw.run_draw(r, by=staff, check_timing=False)
    assert [a.id for a in exc.value.applications] == [apps[0].id]
    assert apps[0].number in exc.value.message and "缺 1 名" in exc.value.message
    assert apps[1].number not in exc.value.message
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 0
    assert d.status == DrawStatus.COMMITTED and d.public_seed is None
    assert r.status == RoundStatus.SETUP
    # fix the pool: the same committed seed is used
    make_expert()
    draw.run_draw(r, by=staff, check_timing=False)
    assert d.status == DrawStatus.REVEALED and r.status == RoundStatus.DRAWN


def test_conflicts_are_stored_with_reasons_and_never_assigned(world):
    staff, call, orgs, apps = world
    employee = make_expert(employer_uscc=orgs[0].uscc)
    advisor = make_expert()
    relate(advisor, orgs[1])
    same_domain = make_expert(email="wang@org2.org.cn")
    webmail = make_expert(email="li@qq.com")
    make_user(Role.APPLICANT, org=orgs[3], email="li2@qq.com")
    others = [make_expert() for _ in range(3)]
    r = make_round(call, by=staff, k=3)
    services.add_entries(r, apps, by=staff)
    assert services.compute_conflicts(r, by=staff) == 3
    found = {(c.application_id, c.expert_id): c for c in services.round_conflicts(r)}
    assert "现任职于申报单位" in found[(apps[0].id, employee.id)].reasons
    assert "近三年曾任申报单位顾问" in found[(apps[1].id, advisor.id)].reasons
    assert any("org2.org.cn" in x for x in found[(apps[2].id, same_domain.id)].reasons)
    assert not any(e == webmail.id for _, e in found)
    assert all(c.source == ConflictSource.AUTO for c in found.values())
    draw.commit_seed(r, by=staff)
    draw.run_draw(r, by=staff, check_timing=False)
    pairs = {(a.application_id, a.expert_id) for a in r.assignments}
    assert not pairs & set(found)
    assert len(pairs) == 12 and len(others) == 3


def test_manual_assignment_refuses_conflicts_with_the_reason(world):
    staff, call, orgs, apps = world
    employee = make_expert(employer_uscc=orgs[0].uscc)
    r, experts = drawn_round(call, apps, 4, by=staff, k=3, open_scoring=False)
    with pytest.raises(services.ReviewError, match="现任职于申报单位"):
        services.manual_assign(r, apps[0], employee, by=staff)
    # a conflict found only now (the relation was declared after the draw) is refused and stored
    late = make_expert()
    relate(late, orgs[1])
    with pytest.raises(services.ReviewError, match="顾问"):
        services.manual_assign(r, apps[1], late, by=staff)
    assert db.session.scalar(db.select(Conflict).where(Conflict.expert_id == late.id)) is not None
    # an expert already on the panel
    on_panel = next(a for a in r.assignments if a.application_id == apps[2].id)
    with pytest.raises(services.ReviewError, match="已分配过"):
        services.manual_assign(r, apps[2], on_panel.expert, by=staff)
    # a free expert: assigned by hand
    free = make_expert()
    a = services.manual_assign(r, apps[2], free, by=staff)
    assert a.status == AssignmentStatus.MANUAL and a.draw_id is None


def test_declaration_draws_a_replacement_with_the_derived_seed(app, world):
    staff, call, orgs, apps = world
    employee = make_expert(employer_uscc=orgs[0].uscc)  # conflicted with app 0: never the replacement
    r, experts = drawn_round(call, apps, 6, by=staff, k=3, max_load=3)
    target = next(a for a in r.assignments if a.application_id == apps[0].id)
    before = {a.expert_id for a in r.assignments if a.application_id == apps[0].id}
    expert_user = target.expert.user
    new = services.declare_conflict(target, by=expert_user, reason="曾为该机构提供督导服务")
    db.session.commit()
    assert target.status == AssignmentStatus.REPLACED
    assert new is not None and new.replaces_id == target.id and new.status == AssignmentStatus.ASSIGNED
    assert new.expert_id not in before and new.expert_id != employee.id
    c = db.session.scalar(db.select(Conflict).where(Conflict.application_id == apps[0].id,
                                                   Conflict.expert_id == target.expert_id))
    assert c.source == ConflictSource.DECLARED and "督导" in c.reason_text
    rd = db.session.get(Draw, new.draw_id)
    assert rd.purpose == DrawPurpose.REPLACEMENT and rd.parent_id == r.initial_draw.id
    assert rd.label == f"replace-{target.id}"
    assert rd.seed == draw_audit.derive_seed(r.initial_draw.seed, f"replace-{target.id}")
    assert rd.commitment == draw_audit.commitment(rd.seed)
    loads = {}
    for a in r.assignments:
        if a.is_active:
            loads[a.expert_id] = loads.get(a.expert_id, 0) + 1
    assert max(loads.values()) <= 3
    result = _run(app, "replay", str(r.id))
    assert result.exit_code == 0, result.output
    assert "替换" in result.output


def test_replacement_impossible_leaves_declined_and_tells_staff(world):
    staff, call, orgs, apps = world
    r, experts = drawn_round(call, apps[:1], 3, by=staff, k=3)
    target = r.assignments[0]
    assert services.declare_conflict(target, by=target.expert.user, reason="亲属在该机构任职") is None
    assert target.status == AssignmentStatus.DECLINED
    assert services.short_panels(r) == {apps[0].id: 1}
    free = make_expert()
    a = services.manual_assign(r, apps[0], free, by=staff)
    assert a.replaces_id == target.id and target.status == AssignmentStatus.REPLACED
    assert services.short_panels(r) == {}


def test_unavailable_experts_are_left_out_and_load_is_min_of_round_and_expert(world):
    staff, call, orgs, apps = world
    busy = make_expert()
    db.session.add(ExpertUnavailability(expert_id=busy.id, start_on=date.today() - timedelta(days=1),
                                        end_on=date.today() + timedelta(days=30)))
    small = make_expert(max_reviews=1)
    [make_expert() for _ in range(4)]
    db.session.flush()
    db.session.refresh(busy)
    r = make_round(call, by=staff, k=3, max_load=3)
    services.add_entries(r, apps, by=staff)
    draw.commit_seed(r, by=staff)
    d = draw.run_draw(r, by=staff, check_timing=False)
    experts = {e: load for e, _, load in json.loads(d.inputs)["experts"]}
    assert busy.id not in experts and experts[small.id] == 1
    assert all(a.expert_id != busy.id for a in r.assignments)


def test_draw_timing_rule(app, world):
    staff, call, orgs, apps = world
    r = make_round(call, by=staff, review_date=date(2026, 10, 9), days=400)
    # National Day 2026: 1–7 October off → 2 working days before Fri 9 Oct are Thu 8 Oct and Wed 30 Sep
    app.config["REVIEW_DRAW_TOO_EARLY"] = "refuse"
    try:
        check = draw.draw_timing(r, date(2026, 9, 29))
        assert check.refuse and check.earliest == date(2026, 9, 30) and "2026年9月30日" in check.message
        assert not draw.draw_timing(r, date(2026, 9, 30)).refuse
        assert draw.draw_timing(r, date(2026, 9, 30)).message is None
        app.config["REVIEW_DRAW_TOO_EARLY"] = "warn"
        check = draw.draw_timing(r, date(2026, 9, 29))
        assert check.message and not check.refuse
    finally:
        app.config.pop("REVIEW_DRAW_TOO_EARLY", None)


def test_deadline_in_the_past_refuses_the_draw(world):
    staff, call, orgs, apps = world
    r = make_round(call, by=staff, deadline=utcnow() - timedelta(hours=1))
    assert draw.draw_timing(r).refuse


def test_replay_with_an_unreadable_stored_result_exits_1(app, world):
    staff, call, orgs, apps = world
    r, experts = drawn_round(call, apps, 6, by=staff, max_load=2)
    r.initial_draw.result = "not json"
    db.session.commit()
    result = _run(app, "replay", str(r.id))
    assert result.exit_code == 1 and "MISMATCH" in result.output


def test_earlier_round_reviewers_are_conflicted_when_the_option_is_on(world):
    from incubator.review.conflicts import REASON_EARLIER

    staff, call, orgs, apps = world
    r1, experts = drawn_round(call, apps[:2], 6, by=staff, k=3)
    services.close_round(r1, by=staff)
    r2 = make_round(call, by=staff, name="复审", exclude_earlier_reviewers=True)
    assert r2.sequence == 2
    assert {a.id for a in services.candidate_applications(r2)} == {apps[0].id, apps[1].id}
    services.add_entries(r2, apps[:2], by=staff)
    with pytest.raises(services.ReviewError, match="不能进入本轮评审"):
        services.add_entries(r2, apps[2:3], by=staff)
    services.compute_conflicts(r2, by=staff)
    earlier = {(c.application_id, c.expert_id) for c in services.round_conflicts(r2) if REASON_EARLIER in c.reasons}
    assert earlier == {(a.application_id, a.expert_id) for a in r1.assignments}
    # with 6 experts and 3 already used per application, a k=3 panel of fresh experts is still possible
    draw.commit_seed(r2, by=staff)
    draw.run_draw(r2, by=staff, check_timing=False)
    assert not {(a.application_id, a.expert_id) for a in r2.assignments} & earlier


def test_panel_settings_frozen_after_the_draw(world):
    staff, call, orgs, apps = world
    r, experts = drawn_round(call, apps[:1], 3, by=staff)
    settings = services.RoundSettings(name=r.name, reviewers_per_application=5, max_load=r.max_load, blind=r.blind,
                                      deadline=r.deadline)
    with pytest.raises(services.ReviewError, match="不能再修改"):
        services.update_round(r, by=staff, settings=settings)
    with pytest.raises(services.ReviewError, match="评分细则不能再修改"):
        services.set_default_criteria(r, by=staff)
    settings.reviewers_per_application = r.reviewers_per_application
    settings.deadline = r.deadline + timedelta(days=1)
    services.update_round(r, by=staff, settings=settings)  # the deadline may move


def test_close_and_reopen_round_needs_a_reason(world):
    staff, call, orgs, apps = world
    r, experts = drawn_round(call, apps[:1], 3, by=staff)
    services.close_round(r, by=staff)
    with pytest.raises(services.InvalidInput):
        services.reopen_round(r, by=staff, reason=" ")
    services.reopen_round(r, by=staff, reason="一名专家评分需更正")
    assert r.status == RoundStatus.SCORING
