"""The expert's side: declaration first, blinded application and downloads, score validation
(SECURITY.md bad scores), submission lock (409), staff reopening (audited), permissions by URL."""
from __future__ import annotations

import pytest

from incubator.accounts.models import Role
from incubator.core.audit import AuditLog
from incubator.extensions import db
from incubator.review.models import AssignmentStatus, Score, ScoreStatus
from tests.access import build_world
from tests.conftest import login_as
from tests.review.factories import review_world


@pytest.fixture()
def w(db):
    w = build_world()
    review_world(w)
    # the application's people and bank, to look for on the blinded page
    w.app_a.versions[-1].data = w.app_a.snapshot()
    db.session.commit()
    return w


def _expert(client, w, who="expert_assigned"):
    login_as(client, getattr(w, who))
    return client


def _page(client, w):
    return client.get(f"/expert/assignments/{w.assignment.id}").get_data(as_text=True)


def _score(w, **points):
    data = {f"points-{c.id}": str(points.get(c.name, c.max_points // 2)) for c in w.round.criteria}
    data.update(comments="意见")
    return data


def test_blind_round_hides_organisation_people_bank_and_file_names(client, w):
    _expert(client, w)
    html = _page(client, w)
    assert "“银龄互助”社区居家养老服务项目" in html  # the project itself is shown
    assert w.org_a.name not in html
    assert "周敏" not in html and "成员1" in html  # team member's name
    assert "6217 0000 1234 5678" not in html and "中国银行洛阳分行" not in html  # bank never shown to experts
    assert "阳光社工中心-登记证书.pdf" not in html and "附件1.pdf" in html
    assert "匿名评审" in html
    # the download carries the neutral name too
    r = client.get(f"/expert/assignments/{w.assignment.id}/files/1")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    disposition = r.headers["Content-Disposition"]
    assert "attachment" in disposition and "%E9%99%84%E4%BB%B61.pdf" in disposition  # 附件1.pdf
    assert "%E7%99%BB%E8%AE%B0" not in disposition  # 登记 (from the original name)
    assert client.get(f"/expert/assignments/{w.assignment.id}/files/2").status_code == 404


def test_open_round_shows_organisation_and_file_names_but_never_the_bank(client, w):
    w.round.blind = False
    db.session.commit()
    _expert(client, w)
    html = _page(client, w)
    assert w.org_a.name in html and "周敏" in html and "阳光社工中心-登记证书.pdf" in html
    assert "6217 0000 1234 5678" not in html


def test_unassigned_and_conflicted_experts_cannot_open_by_url(app, w):
    for who in ("expert_unassigned", "expert_conflict"):
        client = app.test_client()
        _expert(client, w, who)
        assert client.get(f"/expert/assignments/{w.assignment.id}").status_code == 404
        assert client.get(f"/expert/assignments/{w.assignment.id}/files/1").status_code == 404
        assert client.post(f"/expert/assignments/{w.assignment.id}/score", data=_score(w)).status_code == 404
    # a conflicted pair stays closed even when an assignment exists for it
    client = app.test_client()
    _expert(client, w, "expert_conflict")
    html = client.get(f"/expert/assignments/{w.sneaked.id}").get_data(as_text=True)
    assert "项目预算" not in html and "附件1" not in html and "评分表" not in html
    assert client.get(f"/expert/assignments/{w.sneaked.id}/files/1").status_code == 403
    assert client.post(f"/expert/assignments/{w.sneaked.id}/score", data=_score(w)).status_code == 403
    assert db.session.scalar(db.select(db.func.count(Score.id))) == 0


def test_declaration_comes_first(client, w):
    w.assignment.status = AssignmentStatus.ASSIGNED
    db.session.commit()
    _expert(client, w)
    html = _page(client, w)
    assert "利害关系声明" in html and "确认无利害关系" in html and "申报回避" in html
    assert "评分表" not in html and "附件1.pdf" not in html
    assert client.get(f"/expert/assignments/{w.assignment.id}/files/1").status_code == 403
    assert client.post(f"/expert/assignments/{w.assignment.id}/score", data=_score(w)).status_code == 403
    r = client.post(f"/expert/assignments/{w.assignment.id}/decline", data={"reason": "  "})
    assert r.status_code == 422 and "请说明回避的原因" in r.get_data(as_text=True)
    r = client.post(f"/expert/assignments/{w.assignment.id}/confirm", follow_redirects=True)
    assert "已确认与申报单位无利害关系" in r.get_data(as_text=True)
    db.session.expire_all()
    assert w.assignment.status == AssignmentStatus.CONFIRMED


@pytest.mark.parametrize("bad, message", [
    ("-1", "不能为负数"),
    ("31", "不能超过30"),
    ("5.5", "必须是整数"),
    ("abc", "格式不正确"),
    ("1e3", "格式不正确"),
    ("９９", "不能超过30"),  # full-width digits are read, then refused for the maximum
])
def test_bad_scores_are_refused_with_chinese_messages_and_input_kept(client, w, bad, message):
    _expert(client, w)
    first = w.round.criteria[0]  # 需求分析, max 30
    data = _score(w)
    data[f"points-{first.id}"] = bad
    data["action"] = "submit"
    r = client.post(f"/expert/assignments/{w.assignment.id}/score", data=data)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert message in html and "需求分析" in html
    assert f'value="{bad}"' in html  # what was typed is kept
    assert db.session.scalar(db.select(db.func.count(Score.id))) == 0


def test_blank_criteria_allowed_in_a_draft_but_not_on_submit(client, w):
    _expert(client, w)
    data = _score(w)
    blank = w.round.criteria[1]
    data[f"points-{blank.id}"] = ""
    r = client.post(f"/expert/assignments/{w.assignment.id}/score", data=dict(data, action="submit"))
    assert r.status_code == 422 and "请为“方案可行性”评分" in r.get_data(as_text=True)
    r = client.post(f"/expert/assignments/{w.assignment.id}/score", data=dict(data, action="save"))
    assert r.status_code == 302
    score = db.session.scalar(db.select(Score))
    assert score.status == ScoreStatus.DRAFT and blank.id not in score.points_by_criterion()


def test_submit_locks_then_409_then_staff_reopen_with_reason(app, client, w):
    _expert(client, w)
    names = {c.name: c for c in w.round.criteria}
    data = _score(w, 需求分析=24, 方案可行性=30, 团队能力=21)
    r = client.post(f"/expert/assignments/{w.assignment.id}/score", data=dict(data, action="submit"))
    assert r.status_code == 302
    score = db.session.scalar(db.select(Score))
    assert score.status == ScoreStatus.SUBMITTED and score.locked and str(score.total) == "75.00"
    assert score.points_by_criterion()[names["方案可行性"].id] == 30
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "score.submit")) is not None
    # re-submit and re-save after the lock
    for action in ("submit", "save"):
        r = client.post(f"/expert/assignments/{w.assignment.id}/score", data=dict(data, action=action))
        assert r.status_code == 409 and "已提交并锁定" in r.get_data(as_text=True)
    db.session.expire_all()
    assert str(db.session.scalar(db.select(Score)).total) == "75.00"

    staff = app.test_client()
    login_as(staff, w.staff_a)
    r = staff.post(f"/staff/review/scores/{score.id}/reopen", data={"reason": ""})
    assert r.status_code == 422
    r = staff.post(f"/staff/review/scores/{score.id}/reopen", data={"reason": "方案可行性分与意见不符"})
    assert r.status_code == 302
    db.session.expire_all()
    score = db.session.scalar(db.select(Score))
    assert score.status == ScoreStatus.REOPENED and score.reopen_reason == "方案可行性分与意见不符"
    row = db.session.scalar(db.select(AuditLog).where(AuditLog.action == "score.reopen"))
    assert row is not None and row.note == "方案可行性分与意见不符" and row.actor_id == w.staff_a.id
    # district B staff cannot reopen
    other = app.test_client()
    login_as(other, w.staff_b)
    assert other.post(f"/staff/review/scores/{score.id}/reopen", data={"reason": "x"}).status_code == 404

    html = _page(client, w)
    assert "方案可行性分与意见不符" in html
    r = client.post(f"/expert/assignments/{w.assignment.id}/score",
                    data=dict(_score(w, 需求分析=20, 方案可行性=30, 团队能力=21), action="submit"))
    assert r.status_code == 302
    db.session.expire_all()
    score = db.session.scalar(db.select(Score))
    assert score.status == ScoreStatus.SUBMITTED and str(score.total) == "71.00"


def test_mass_assignment_fields_are_ignored(client, w):
    _expert(client, w)
    data = dict(_score(w), action="save", status="submitted", total="100", expert_id="999", locked="1")
    client.post(f"/expert/assignments/{w.assignment.id}/score", data=data)
    score = db.session.scalar(db.select(Score))
    assert score.status == ScoreStatus.DRAFT and score.total is None and score.expert_id == w.exp_assigned.id


def test_queue_lists_only_own_assignments_with_countdown(app, w):
    client = app.test_client()
    _expert(client, w)
    html = client.get("/expert/").get_data(as_text=True)
    assert w.app_a.number in html and "还剩" in html
    client = app.test_client()
    _expert(client, w, "expert_unassigned")
    html = client.get("/expert/").get_data(as_text=True)
    assert w.app_a.number not in html and "目前没有分配给您的评审任务" in html


def test_decline_by_page_draws_a_replacement_never_the_conflicted_expert(client, w):
    from incubator.review.models import Assignment

    w.assignment.status = AssignmentStatus.ASSIGNED
    db.session.commit()
    _expert(client, w)
    r = client.post(f"/expert/assignments/{w.assignment.id}/decline", data={"reason": "曾任该机构顾问"})
    assert r.status_code == 302
    db.session.expire_all()
    assert w.assignment.status == AssignmentStatus.REPLACED
    new = db.session.scalar(db.select(Assignment).where(Assignment.replaces_id == w.assignment.id))
    assert new.expert_id == w.exp_unassigned.id  # the only expert left without a conflict
    assert new.status == AssignmentStatus.ASSIGNED
    # the decliner can no longer open it
    assert client.get(f"/expert/assignments/{w.assignment.id}/files/1").status_code == 403


def test_non_expert_roles_get_403_on_expert_pages(app, w):
    for user in (w.staff_a, w.applicant_a, w.admin):
        client = app.test_client()
        login_as(client, user)
        assert client.get("/expert/").status_code == 403
        assert client.get(f"/expert/assignments/{w.assignment.id}").status_code == 403
    assert Role.EXPERT == w.expert_assigned.role
