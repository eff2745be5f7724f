"""Staff pages: build a round, rubric validation, entries, the two-step draw on the page (commitment
shown before, seed after), refusal listing applications, manual assignment refused for conflicts,
district isolation, reminders (idempotent)."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest

from incubator.accounts.models import Role
from incubator.core.mail import OutgoingMail
from incubator.db import to_local, today_local, utcnow
from incubator.extensions import db
from incubator.notifications.models import Notification
from incubator.review import jobs as review_jobs
from incubator.review.models import Assignment, Draw, ReminderLog, ReviewRound, RoundStatus, Score, ScoreStatus
from tests.applications.helpers import make_call, make_org
from tests.conftest import login_as
from tests.factories import make_district, make_user
from tests.review.factories import drawn_round, make_expert, make_passed, make_round


@pytest.fixture()
def setup(db):
    district = make_district(name="甲区", code="410302")
    staff = make_user(Role.STAFF, district=district)
    call = make_call(district=district)
    orgs = [make_org(district=district, contact_email=f"office@o{i}.org.cn") for i in range(3)]
    apps = [make_passed(o, call) for o in orgs]
    db.session.commit()
    return staff, call, orgs, apps


def _form(call, **kw):
    data = {"call_id": str(call.id), "name": "书面评审", "kind": "written", "reviewers_per_application": "3",
            "max_load": "5", "blind": "y", "deadline": (to_local(utcnow()) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "aggregation": "trimmed", "trim_from": "5", "promotion": "top_n", "promotion_top_n": "2"}
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def test_create_round_with_defaults_and_warn_on_even_panel(client, setup):
    staff, call, orgs, apps = setup
    login_as(client, staff)
    r = client.post("/staff/review/rounds/new", data=_form(call, reviewers_per_application="4"), follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "已创建评审轮次" in html and "双数" in html
    rnd = db.session.scalar(db.select(ReviewRound))
    assert rnd.sequence == 1 and rnd.blind and rnd.status == RoundStatus.SETUP
    assert rnd.criteria_total == 100 and len(rnd.criteria) == 6


@pytest.mark.parametrize("field, value, message", [
    ("reviewers_per_application", "0", "不能小于1"),
    ("reviewers_per_application", "2.5", "必须是整数"),
    ("deadline", "2026-02-30T10:00", "不存在"),
    ("deadline", (to_local(utcnow()) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"), "应晚于现在"),
    ("promotion_top_n", None, "请填写晋级名额"),
    ("name", "  ", "请填写轮次名称"),
])
def test_round_form_errors_are_422_and_keep_input(client, setup, field, value, message):
    staff, call, orgs, apps = setup
    login_as(client, staff)
    r = client.post("/staff/review/rounds/new", data=_form(call, **{field: value}))
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(ReviewRound.id))) == 0


def test_round_for_a_call_out_of_scope_is_refused(client, setup):
    staff, call, orgs, apps = setup
    other = make_call(district=make_district(name="乙区", code="410303"))
    db.session.commit()
    login_as(client, staff)
    r = client.post("/staff/review/rounds/new", data=_form(other))
    assert r.status_code == 422  # not a choice for this user
    assert db.session.scalar(db.select(db.func.count(ReviewRound.id))) == 0


def test_criteria_must_total_100(client, setup):
    staff, call, orgs, apps = setup
    rnd = make_round(call, by=staff)
    db.session.commit()
    login_as(client, staff)
    url = f"/staff/review/rounds/{rnd.id}/criteria"
    r = client.post(url, data={"name-0": "需求", "max_points-0": "50", "name-1": "方案", "max_points-1": "40"})
    assert r.status_code == 422 and "权重合计须为 100 分" in r.get_data(as_text=True)
    r = client.post(url, data={"name-0": "需求", "max_points-0": "5.5"})
    assert r.status_code == 422 and "必须是整数" in r.get_data(as_text=True)
    r = client.post(url, data={"name-0": "需求", "max_points-0": "10", "weight-0": "60",
                               "name-1": "方案", "max_points-1": "20", "weight-1": "40"})
    assert r.status_code == 302
    db.session.expire_all()
    assert [(c.name, c.max_points, int(c.weight)) for c in rnd.criteria] == [("需求", 10, 60), ("方案", 20, 40)]


def test_draw_on_the_page_commitment_first_then_seed(app, client, setup):
    staff, call, orgs, apps = setup
    [make_expert() for _ in range(5)]
    rnd = make_round(call, by=staff, k=3, max_load=2)
    db.session.commit()
    login_as(client, staff)
    assert client.post(f"/staff/review/rounds/{rnd.id}/entries/import").status_code == 302
    assert len(rnd.entries) == 3
    page = f"/staff/review/rounds/{rnd.id}/draw"
    html = client.get(page).get_data(as_text=True)
    assert "生成随机种子" in html and 'data-testid="commitment"' not in html

    client.post(f"/staff/review/rounds/{rnd.id}/draw/commit")
    html = client.get(page).get_data(as_text=True)
    commitment = re.search(r'data-testid="commitment">([0-9a-f]{64})<', html).group(1)
    assert "公布时间" in html and 'data-testid="seed"' not in html and "执行抽取" in html
    d = db.session.scalar(db.select(Draw))
    assert d.seed not in html  # the seed is kept secret until the draw

    r = client.post(f"/staff/review/rounds/{rnd.id}/draw/run", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "抽取完成" in html
    seed = re.search(r'data-testid="seed">([0-9a-f]{64})<', html).group(1)
    assert hashlib.sha256(seed.encode()).hexdigest() == commitment
    assert "与事先公布的哈希值一致" in html and d.inputs_digest in html and f"review replay {rnd.id}" in html
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 9
    inputs = client.get(f"/staff/review/draws/{d.id}/inputs.json")
    assert inputs.status_code == 200 and hashlib.sha256(inputs.data).hexdigest() == d.inputs_digest
    # a second run / commit is refused
    assert client.post(f"/staff/review/rounds/{rnd.id}/draw/run").status_code == 409
    assert "本轮专家已抽取" in client.post(f"/staff/review/rounds/{rnd.id}/draw/commit",
                                         follow_redirects=True).get_data(as_text=True)


def test_infeasible_draw_page_lists_the_applications(client, setup):
    staff, call, orgs, apps = setup
    make_expert(employer_uscc=orgs[1].uscc)
    [make_expert() for _ in range(2)]
    rnd = make_round(call, by=staff, k=3)
    db.session.commit()
    login_as(client, staff)
    client.post(f"/staff/review/rounds/{rnd.id}/entries/import")
    client.post(f"/staff/review/rounds/{rnd.id}/draw/commit")
    r = client.post(f"/staff/review/rounds/{rnd.id}/draw/run")
    html = r.get_data(as_text=True)
    assert r.status_code == 409
    listed = re.findall(r'data-testid="short-app"><td class="font-monospace">([^<]+)<', html)
    assert listed == [apps[1].number]
    assert "规则不会被自动放宽" in html
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 0


def test_draw_too_early_is_refused_by_default(app, client, setup):
    staff, call, orgs, apps = setup
    [make_expert() for _ in range(3)]
    rnd = make_round(call, by=staff, days=60)
    db.session.commit()
    login_as(client, staff)
    client.post(f"/staff/review/rounds/{rnd.id}/entries/import")
    client.post(f"/staff/review/rounds/{rnd.id}/draw/commit")
    r = client.post(f"/staff/review/rounds/{rnd.id}/draw/run")
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and ("个工作日内抽取" in html or "无法判断" in html)
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 0


def test_manual_assignment_conflict_refused_on_the_page(client, setup):
    staff, call, orgs, apps = setup
    rnd, experts = drawn_round(call, apps, 4, by=staff)
    employee = make_expert(employer_uscc=orgs[0].uscc, name="冲突专家")
    db.session.commit()
    login_as(client, staff)
    r = client.post(f"/staff/review/rounds/{rnd.id}/assignments",
                    data={"application_id": str(apps[0].id), "expert_id": str(employee.id)})
    assert r.status_code == 409 and "现任职于申报单位" in r.get_data(as_text=True)
    assert db.session.scalar(db.select(Assignment).where(Assignment.expert_id == employee.id)) is None


def test_district_staff_see_only_their_rounds(app, setup):
    staff, call, orgs, apps = setup
    rnd = make_round(call, by=staff, name="甲区书面评审")
    other_district = make_district(name="乙区", code="410303")
    staff_b = make_user(Role.STAFF, district=other_district)
    db.session.commit()
    client = app.test_client()
    login_as(client, staff_b)
    html = client.get("/staff/review/").get_data(as_text=True)
    assert "甲区书面评审" not in html
    assert client.get(f"/staff/review/rounds/{rnd.id}").status_code == 404
    assert client.get(f"/staff/review/rounds/{rnd.id}/draw").status_code == 404
    client = app.test_client()
    login_as(client, staff)
    assert "甲区书面评审" in client.get("/staff/review/").get_data(as_text=True)


def test_reminders_are_sent_once_per_assignment_per_day(app, setup, run_jobs):
    staff, call, orgs, apps = setup
    rnd, experts = drawn_round(call, apps[:1], 3, by=staff)
    rnd.deadline = utcnow() + timedelta(hours=20)
    first = rnd.assignments[0]
    db.session.add(Score(assignment=first, round_id=rnd.id, application_id=first.application_id,
                         expert_id=first.expert_id, status=ScoreStatus.SUBMITTED, total=80))
    db.session.commit()
    before = db.session.scalar(db.select(db.func.count(Notification.id)))
    assert review_jobs.send_reminders() == 2  # the one who submitted is not reminded
    db.session.commit()
    assert review_jobs.send_reminders() == 0  # same day: nothing more
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(ReminderLog.id))) == 2
    assert db.session.scalar(db.select(db.func.count(Notification.id))) == before + 2
    mails = db.session.scalars(db.select(OutgoingMail).where(OutgoingMail.subject.like("评分提醒%"))).all()
    assert len(mails) == 2 and all("截止时间" in m.body for m in mails)
    # the next day: reminded again
    tomorrow = (today_local() + timedelta(days=1)).isoformat()
    assert review_jobs.send_reminders(None, tomorrow) == 2
    # the staff button queues the job; the worker runs it (nothing new today)
    client = app.test_client()
    login_as(client, staff)
    r = client.post(f"/staff/review/rounds/{rnd.id}/remind", follow_redirects=True)
    assert "已排队发送评分提醒" in r.get_data(as_text=True)
    run_jobs()
    assert db.session.scalar(db.select(db.func.count(ReminderLog.id))) == 4


def test_reminders_skip_rounds_far_from_the_deadline(setup):
    staff, call, orgs, apps = setup
    rnd, experts = drawn_round(call, apps[:1], 3, by=staff, days=10)
    db.session.commit()
    assert review_jobs.send_reminders() == 0


def test_remind_cli_queues_the_job(app, setup):
    result = app.test_cli_runner().invoke(args=["review", "remind"])
    assert result.exit_code == 0 and "已排队" in result.output


def test_open_scoring_notifies_experts(client, setup):
    staff, call, orgs, apps = setup
    rnd, experts = drawn_round(call, apps, 5, by=staff, open_scoring=False)
    db.session.commit()
    login_as(client, staff)
    r = client.post(f"/staff/review/rounds/{rnd.id}/open", follow_redirects=True)
    assert "已开始评分，已通知 5 位专家" in r.get_data(as_text=True)  # 9 reviews spread over all 5
    db.session.expire_all()
    assert rnd.status == RoundStatus.SCORING
    users = {e.user_id for e in experts}
    told = set(db.session.scalars(db.select(Notification.user_id).where(Notification.title.like("评审任务%"))))
    assert told == users


def test_expert_history_for_the_pool_page(app, setup):
    from incubator.review import services

    staff, call, orgs, apps = setup
    rnd, experts = drawn_round(call, apps[:1], 3, by=staff)
    totals = [70, 80, 90]
    for a, total in zip(rnd.assignments, totals):
        services.confirm_no_conflict(a, by=a.expert.user)
        c1, c2, c3 = rnd.criteria  # 30 / 40 / 30
        services.save_score(a, by=a.expert.user, points={c1.id: 30, c2.id: total - 60, c3.id: 30}, comments="",
                            submit=True)
    db.session.commit()
    lenient = next(a for a in rnd.assignments if a.score.total == 90).expert
    h = services.expert_history(lenient)
    assert h["round_count"] == 1 and h["reviews"] == 1 and str(h["on_time_rate"]) == "100.0"
    assert str(h["deviation"]) == "10.00"
    assert services.expert_history(make_expert()) is None
    admin = make_user(Role.ADMIN)
    db.session.commit()
    client = app.test_client()
    login_as(client, admin)
    html = client.get(f"/pools/experts/{lenient.id}").get_data(as_text=True)
    assert "按时完成率" in html and "+10.00 分" in html
