"""绩效评价 services: bands, templates, scoring, transitions, consequences on the tranches."""
from __future__ import annotations

from decimal import Decimal

import pytest

from incubator.accounts.models import Role
from incubator.core.states import InvalidTransition
from incubator.projects import services as project_services
from incubator.projects.evaluations import services
from incubator.projects.evaluations.models import (
    EvaluationGrade,
    EvaluationStage,
    EvaluationStatus,
    grade_for,
)
from incubator.projects.models import TrancheCondition, TrancheStatus
from tests.factories import make_user
from tests.projects.evaluations.helpers import evaluation_world, make_template, points_for, rows, score
from tests.projects.helpers import scheduled, staff_for

D = Decimal


# --------------------------------------------------------------------------- bands

@pytest.mark.parametrize("total, grade", [
    ("0", "fail"), ("59.99", "fail"), ("60", "pass"), ("60.00", "pass"), ("79.99", "pass"), ("80", "good"),
    ("89.99", "good"), ("90", "excellent"), ("100", "excellent"),
])
def test_grade_bands_at_the_edges(app, total, grade):
    with app.app_context():
        assert grade_for(D(total)) == EvaluationGrade(grade)


def test_bands_are_a_setting(app):
    with app.app_context():
        app.config["EVALUATION_GRADE_BANDS"] = [["excellent", "85"], ["good", "75"], ["pass", "60"], ["fail", "0"]]
        try:
            assert grade_for(D("85")) == EvaluationGrade.EXCELLENT
            assert grade_for(D("84.99")) == EvaluationGrade.GOOD
        finally:
            app.config.pop("EVALUATION_GRADE_BANDS")
        assert grade_for(D("85")) == EvaluationGrade.GOOD


# --------------------------------------------------------------------------- templates

def test_template_tree_levels_and_parent_weights(db):
    t = make_template()
    by_code = {i.code: i for i in t.indicators}
    assert by_code["1"].max_points == D("60") and by_code["1"].level == 1 and by_code["1"].parent_id is None
    assert by_code["1.2"].parent_id == by_code["1"].id and by_code["1.2"].level == 2
    assert sorted(i.code for i in t.leaves) == ["1.1", "1.2", "2.1"]


def test_three_levels(db):
    spec = [("1", "项目管理", None, ""), ("1.1", "组织实施", None, ""), ("1.1.1", "计划执行", "70", ""),
            ("1.1.2", "台账", "30", "")]
    t = make_template(spec=spec)
    assert {i.code: i.level for i in t.indicators}["1.1.1"] == 3
    assert {i.code: i.max_points for i in t.indicators}["1"] == D("100")


@pytest.mark.parametrize("spec, message", [
    ([("1", "甲", "60", ""), ("2", "乙", "39.99", "")], "合计须为100分"),
    ([("1", "甲", "60", ""), ("2", "乙", "41", "")], "合计须为100分"),
    ([("1", "甲", "50", ""), ("1.1", "甲一", "40", ""), ("1.2", "甲二", "20", ""), ("2", "乙", "40", "")], "不一致"),
    ([("1", "甲", "100", ""), ("1", "乙", "10", "")], "重复"),
    ([("1", "甲", "100", ""), ("3.1", "乙", "10", "")], "不存在"),
    ([("1.1.1.1", "甲", "100", "")], "编号格式"),
    ([("a", "甲", "100", "")], "编号格式"),
    ([("1", "", "100", "")], "名称"),
    ([("1", "甲", None, "")], "分值"),
    ([], "至少"),
])
def test_weights_must_sum_to_100_and_the_tree_must_hold(db, spec, message):
    with pytest.raises(services.EvaluationError) as exc:
        make_template(spec=spec)
    assert message in str(exc.value)


def test_template_update_replaces_tree_but_evaluations_keep_their_snapshot(db):
    project, staff, evaluator, ev = evaluation_world()
    t = ev.template
    spec = [("1", "新指标", "100", "")]
    services.update_template(t, services.TemplateData(name=t.name, rows=rows(spec)), by=staff)
    assert [i.name for i in t.indicators] == ["新指标"]
    assert [n["name"] for n in ev.leaves] == ["活动完成率", "台账管理", "资金使用合规性"]
    with pytest.raises(services.EvaluationError, match="不能删除"):
        services.delete_template(t, by=staff)


def test_template_names_are_unique_and_only_staff_edit(db):
    make_template(name="甲")
    with pytest.raises(services.EvaluationError, match="同名"):
        make_template(name="甲")
    with pytest.raises(services.NotAllowed):
        services.create_template(services.TemplateData(name="乙", rows=rows()), by=make_user(Role.EVALUATOR))


def test_unused_template_can_be_deleted(db):
    t = make_template()
    by = make_user(Role.ADMIN)
    services.delete_template(t, by=by)
    assert services.templates_for() == []


# --------------------------------------------------------------------------- assigning

def test_assign_checks_who_and_what(db):
    project, staff = evaluation_world()[:2]
    other = make_user(Role.EVALUATOR)
    t = make_template(name="另一个")
    with pytest.raises(services.EvaluationError, match="已有中期评估"):
        services.assign_evaluation(project, stage=EvaluationStage.MIDTERM, template=t, evaluator=other, by=staff)
    with pytest.raises(services.EvaluationError, match="评价人"):
        services.assign_evaluation(project, stage=EvaluationStage.FINAL, template=t,
                                   evaluator=make_user(Role.FINANCE), by=staff)
    with pytest.raises(services.NotAllowed):
        services.assign_evaluation(project, stage=EvaluationStage.FINAL, template=t, evaluator=other,
                                   by=make_user(Role.STAFF, district=None) if False else make_user(Role.FINANCE))
    midterm_only = make_template(name="中期专用", for_final=False)
    with pytest.raises(services.EvaluationError, match="不适用"):
        services.assign_evaluation(project, stage=EvaluationStage.FINAL, template=midterm_only, evaluator=other,
                                   by=staff)
    ev = services.assign_evaluation(project, stage=EvaluationStage.FINAL, template=t, evaluator=staff, by=staff)
    assert ev.evaluator_id == staff.id and ev.status == EvaluationStatus.ASSIGNED


def test_staff_of_another_district_cannot_assign(db):
    project, staff = evaluation_world()[:2]
    from tests.factories import make_district
    far = make_user(Role.STAFF, district=make_district(name="远区", code="410399"))
    with pytest.raises(services.NotAllowed):
        services.assign_evaluation(project, stage=EvaluationStage.FINAL, template=make_template(name="x"),
                                   evaluator=make_user(Role.EVALUATOR), by=far)


def test_cancel_then_assign_again(db):
    project, staff, evaluator, ev = evaluation_world()
    with pytest.raises(services.EvaluationError, match="理由"):
        services.cancel_evaluation(ev, by=staff, reason=" ")
    services.cancel_evaluation(ev, by=staff, reason="评价人回避")
    assert ev.status == EvaluationStatus.CANCELLED
    again = services.assign_evaluation(project, stage=EvaluationStage.MIDTERM, template=ev.template,
                                       evaluator=make_user(Role.EXPERT), by=staff)
    assert again.status == EvaluationStatus.ASSIGNED


# --------------------------------------------------------------------------- scoring

def test_only_the_assigned_evaluator_scores(db):
    project, staff, evaluator, ev = evaluation_world()
    for intruder in (staff, make_user(Role.EVALUATOR)):
        with pytest.raises(services.NotAllowed):
            services.save_scores(ev, services.ScoreInput(points=points_for(ev, 70)), by=intruder)


@pytest.mark.parametrize("code, value", [("1.1", "40.01"), ("1.2", "-1"), ("2.1", "100"), ("1.1", "1.005")])
def test_scores_outside_zero_to_max_are_refused(db, code, value):
    project, staff, evaluator, ev = evaluation_world()
    points = points_for(ev, 50)
    points[code] = D(value)
    with pytest.raises(services.EvaluationError) as exc:
        services.save_scores(ev, services.ScoreInput(points=points), by=evaluator)
    assert f"score-{code}" in exc.value.errors
    assert ev.scores == []


def test_unknown_indicator_refused(db):
    project, staff, evaluator, ev = evaluation_world()
    with pytest.raises(services.EvaluationError, match="不符"):
        services.save_scores(ev, services.ScoreInput(points={"9.9": D(1)}), by=evaluator)


def test_bonus_and_deduction(db):
    project, staff, evaluator, ev = evaluation_world()
    with pytest.raises(services.EvaluationError, match="加分须在0至5分"):
        score(ev, 80, bonus=D("6"), bonus_note="获市级表彰", submit=False)
    with pytest.raises(services.EvaluationError, match="说明加分"):
        score(ev, 80, bonus=D("2"), submit=False)
    score(ev, 80, bonus=D("3"), bonus_note="获市级表彰", deduction=D("1.5"), deduction_note="一次活动取消未报备")
    assert ev.total == D("81.50") and ev.grade == EvaluationGrade.GOOD


def test_total_is_kept_within_0_and_100(db):
    project, staff, evaluator, ev = evaluation_world()
    score(ev, 99, bonus=D("5"), bonus_note="加分")
    assert ev.total == D("100.00") and ev.grade == EvaluationGrade.EXCELLENT


def test_submit_needs_every_leaf(db):
    project, staff, evaluator, ev = evaluation_world()
    points = points_for(ev, 70)
    points["2.1"] = None
    services.save_scores(ev, services.ScoreInput(points=points), by=evaluator)
    with pytest.raises(services.EvaluationError, match="1项指标未评分：资金使用合规性"):
        services.submit_evaluation(ev, by=evaluator)


def test_overdue_reports_deduct_points(db, monkeypatch):
    project, staff, evaluator, ev = evaluation_world()
    monkeypatch.setattr(services, "overdue_reports_count", lambda p: 3)
    score(ev, 80)
    assert ev.overdue_reports == 3 and ev.overdue_deduction == D("6.00")  # 2 points per report
    assert ev.total == D("74.00") and ev.grade == EvaluationGrade.PASS


def test_overdue_deduction_has_a_cap(db, monkeypatch):
    project, staff, evaluator, ev = evaluation_world()
    monkeypatch.setattr(services, "overdue_reports_count", lambda p: 9)
    score(ev, 80)
    assert ev.overdue_deduction == D("10.00") and ev.total == D("70.00")


def test_overdue_count_comes_from_the_reports_area(db):
    """Against the real reports service when it exists (helper D's ``overdue_count(project)``)."""
    reports = pytest.importorskip("incubator.projects.reports.services")
    if not hasattr(reports, "overdue_count"):
        pytest.skip("reports area has no overdue_count yet")
    project, staff, evaluator, ev = evaluation_world()
    assert services.overdue_reports_count(project) == reports.overdue_count(project)


# --------------------------------------------------------------------------- transitions

def test_submit_confirm(db):
    project, staff, evaluator, ev = evaluation_world()
    score(ev, 75)
    assert ev.status == EvaluationStatus.SUBMITTED and ev.total == D("75.00") and ev.grade == EvaluationGrade.PASS
    with pytest.raises(services.EvaluationError) as exc:
        score(ev, 80, submit=False)
    assert exc.value.status == 409
    with pytest.raises(services.NotAllowed):
        services.confirm_evaluation(ev, by=evaluator)
    services.confirm_evaluation(ev, by=staff, report=False)
    assert ev.status == EvaluationStatus.CONFIRMED and ev.confirmed_by_id == staff.id
    for action in (lambda: services.confirm_evaluation(ev, by=staff),
                   lambda: services.return_evaluation(ev, by=staff, reason="x"),
                   lambda: services.cancel_evaluation(ev, by=staff, reason="x")):
        with pytest.raises(services.EvaluationError) as exc:
            action()
        assert exc.value.status == 409


def test_return_and_resubmit(db):
    project, staff, evaluator, ev = evaluation_world()
    with pytest.raises(services.EvaluationError):
        services.return_evaluation(ev, by=staff, reason="未提交")
    score(ev, 75)
    with pytest.raises(services.EvaluationError, match="理由"):
        services.return_evaluation(ev, by=staff, reason="")
    services.return_evaluation(ev, by=staff, reason="满意度未附问卷")
    assert ev.status == EvaluationStatus.RETURNED and ev.return_reason == "满意度未附问卷"
    score(ev, 82)
    assert ev.status == EvaluationStatus.SUBMITTED and ev.grade == EvaluationGrade.GOOD


@pytest.mark.parametrize("start, to, ok", [
    ("assigned", "submitted", True), ("assigned", "cancelled", True), ("assigned", "confirmed", False),
    ("submitted", "confirmed", True), ("submitted", "returned", True), ("submitted", "cancelled", False),
    ("returned", "submitted", True), ("returned", "cancelled", True), ("confirmed", "returned", False),
    ("cancelled", "assigned", False),
])
def test_transition_table(db, start, to, ok):
    from incubator.core.states import transition
    project, staff, evaluator, ev = evaluation_world()
    ev.status = EvaluationStatus(start)
    if to in ("submitted", "confirmed"):
        ev.total, ev.grade = D("70"), EvaluationGrade.PASS
    if ok:
        transition(ev, EvaluationStatus(to), by=staff)
        assert ev.status == EvaluationStatus(to)
    else:
        with pytest.raises(InvalidTransition):
            transition(ev, EvaluationStatus(to), by=staff)


# --------------------------------------------------------------------------- consequences

def _sign(project, staff):
    """Signed, and the first tranche paid (as before any mid-term)."""
    from datetime import date

    project_services.mark_condition_met(project, TrancheCondition.ON_SIGNING, by=staff, on=date(2026, 3, 1))
    req = project_services.request_payment(project.tranches[0], by=staff)
    project_services.approve_by_staff(req, by=staff)
    project_services.approve_by_finance(req, by=make_user(Role.FINANCE), paid_on=date(2026, 3, 10), voucher_no="PZ-1")


def test_midterm_pass_opens_tranche_2(db):
    project, staff, evaluator, ev = evaluation_world()
    _sign(project, staff)
    assert project.tranches[1].status == TrancheStatus.PENDING
    score(ev, 60)
    services.confirm_evaluation(ev, by=staff, report=False)
    assert project.midterm_passed_on is not None
    assert project.tranches[1].status == TrancheStatus.REQUESTABLE
    assert services.latest_grade(project, EvaluationStage.MIDTERM) == EvaluationGrade.PASS
    assert services.latest_grade(project, EvaluationStage.FINAL) is None


def test_midterm_fail_stops_tranche_2(db):
    project, staff, evaluator, ev = evaluation_world()
    _sign(project, staff)
    score(ev, D("59.99"))
    services.confirm_evaluation(ev, by=staff, report=False)
    assert project.midterm_failed_on is not None and project.midterm_passed_on is None
    assert project.tranches[1].status == TrancheStatus.STOPPED
    with pytest.raises(project_services.ProjectError):
        project_services.request_payment(project.tranches[1], by=staff)
    assert services.latest_grade(project, EvaluationStage.MIDTERM) == EvaluationGrade.FAIL
    with pytest.raises(services.EvaluationError, match="已有中期评估"):
        services.assign_evaluation(project, stage=EvaluationStage.MIDTERM, template=ev.template,
                                   evaluator=evaluator, by=staff)


def test_final_pass_opens_the_last_tranche_and_fail_does_not(db):
    project, staff, evaluator, ev = evaluation_world(stage=EvaluationStage.FINAL)
    _sign(project, staff)
    score(ev, 90)
    services.confirm_evaluation(ev, by=staff, report=False)
    assert project.final_accepted_on is not None
    assert project.tranches[2].status == TrancheStatus.REQUESTABLE

    project2, staff2, _e, ev2 = evaluation_world(stage=EvaluationStage.FINAL)
    score(ev2, 40)
    services.confirm_evaluation(ev2, by=staff2, report=False)
    assert project2.final_accepted_on is None
    assert project2.tranches[2].status == TrancheStatus.PENDING


def test_confirm_when_midterm_already_registered_by_hand(db):
    project, staff, evaluator, ev = evaluation_world()
    project_services.mark_condition_met(project, TrancheCondition.ON_MIDTERM_PASS, by=staff)
    score(ev, 50)
    with pytest.raises(services.EvaluationError, match="不能生效"):
        services.confirm_evaluation(ev, by=staff, report=False)


def test_org_sees_final_grades_on_its_record(db):
    project, staff, evaluator, ev = evaluation_world(stage=EvaluationStage.FINAL)
    score(ev, 88)
    services.confirm_evaluation(ev, by=staff, report=False)
    [(p, e)] = services.final_grades_for_org(project.org)
    assert p.id == project.id and e.grade == EvaluationGrade.GOOD


# --------------------------------------------------------------------------- desk and the evaluator's list

@pytest.fixture()
def request_ctx(app, db):
    with app.test_request_context("/"):
        yield


def test_desk_items(db, request_ctx, monkeypatch):
    from datetime import date

    project, staff, evaluator, ev = evaluation_world()
    # the mid-point of 2026-03-01 … 2027-02-28 has passed on 2026-10-01; the term end has not
    monkeypatch.setattr(services, "today_local", lambda: date(2026, 10, 1))
    items = services.desk_items(evaluator)
    assert [i.title for i in items] == [f"{project.number} {project.title}：中期评估待评分"]
    assert services.desk_items(staff) == []  # the mid-term is assigned already
    services.cancel_evaluation(ev, by=staff, reason="换人")
    [item] = services.desk_items(staff)
    assert "待安排中期评估" in item.title and item.due == date(2026, 8, 30)
    ev2 = services.assign_evaluation(project, stage=EvaluationStage.MIDTERM, template=ev.template,
                                     evaluator=evaluator, by=staff)
    score(ev2, 70)
    [item] = services.desk_items(staff)
    assert "已提交，待确认" in item.title
    assert services.desk_items(make_user(Role.FINANCE)) == []
    other = staff_for(project.org)
    monkeypatch.setattr(services, "today_local", lambda: date(2027, 3, 5))
    titles = [i.title for i in services.desk_items(other)]
    assert any("待安排结项评估" in t for t in titles)


def test_evaluations_of(db):
    project, staff, evaluator, ev = evaluation_world()
    assert services.evaluations_of(evaluator) == [ev]
    assert services.evaluations_of(evaluator, status="submitted") == []
    assert services.evaluations_of(make_user(Role.EVALUATOR)) == []


# --------------------------------------------------------------------------- annual assessment and demo

def test_assessment_counts_a_termination_for_failure(db):
    from incubator.db import to_local
    from incubator.projects.exits.models import ExitReason, Termination

    project, staff, evaluator, ev = evaluation_world(stage=EvaluationStage.FINAL)
    score(ev, 95)
    services.confirm_evaluation(ev, by=staff, report=False)
    year = to_local(ev.confirmed_at).year
    [row] = services.annual_assessment(staff, year)
    assert row.result == EvaluationGrade.EXCELLENT
    other, _s = scheduled(org=project.org, by=staff)
    project_services.terminate_project(other, by=staff, reason="严重违约")
    db.session.add(Termination(project_id=other.id, reason_kind=ExitReason.BREACH, detail="严重违约", decided_by_id=staff.id))
    db.session.flush()
    [row] = services.annual_assessment(staff, year)
    assert row.result == EvaluationGrade.FAIL and "被终止" in row.reason
    assert services.annual_assessment(staff, year - 5) == []


def test_demo_seed_gives_a_confirmed_midterm_pass(db):
    from incubator.projects.evaluations import demo

    project, staff = scheduled()
    ev = demo.seed(project, staff=staff, evaluator=make_user(Role.EVALUATOR), org_user=None, finance=None)
    assert ev.status == EvaluationStatus.CONFIRMED and ev.grade == EvaluationGrade.PASS
    assert project.midterm_passed_on is not None
    assert len(demo.seed_templates()) == 2  # idempotent
    assert {t.name for t in services.templates_for(EvaluationStage.FINAL)} == {demo.GENERAL}


def test_overdue_reports_from_the_reports_area_deduct(db):
    """The real ``overdue_count`` of helper D's reports area: monthly reports of a term that began
    four months ago and none submitted."""
    from datetime import timedelta

    from incubator.db import today_local
    reports = pytest.importorskip("incubator.projects.reports.services")
    today = today_local()
    project, staff, evaluator, ev = evaluation_world(term_start=today - timedelta(days=130),
                                                     term_end=today + timedelta(days=200))
    reports.generate_schedule(project, "monthly", by=staff)
    count = reports.overdue_count(project)
    assert count >= 2
    score(ev, 90)
    assert ev.overdue_reports == count
    assert ev.overdue_deduction == min(D(2) * count, D(10))
    assert ev.total == D(90) - ev.overdue_deduction


def test_assign_refuses_a_past_due_date_and_a_closed_project(db):
    from datetime import timedelta

    from incubator.db import today_local
    project, staff, evaluator, ev = evaluation_world()
    with pytest.raises(services.EvaluationError, match="截止日期"):
        services.assign_evaluation(project, stage=EvaluationStage.FINAL, template=ev.template, evaluator=evaluator,
                                   due_on=today_local() - timedelta(days=1), by=staff)
    project_services.terminate_project(project, by=staff, reason="承接主体申请退出")
    with pytest.raises(services.EvaluationError, match="已终止") as exc:
        services.assign_evaluation(project, stage=EvaluationStage.FINAL, template=ev.template, evaluator=evaluator,
                                   by=staff)
    assert exc.value.status == 409


def test_grade_bands_come_from_the_environment(monkeypatch):
    """EVALUATION_GRADE_BANDS is read at start-up; a wrong value stops it with the reason."""
    from incubator.config import grade_bands, load_config

    monkeypatch.setenv("EVALUATION_GRADE_BANDS", "excellent:85, good:75, pass:60")
    assert load_config()["EVALUATION_GRADE_BANDS"] == [["excellent", "85"], ["good", "75"], ["pass", "60"],
                                                       ["fail", "0"]]
    monkeypatch.delenv("EVALUATION_GRADE_BANDS")
    assert load_config()["EVALUATION_GRADE_BANDS"] is None
    for bad in ("excellent:90", "great:90,pass:60", "pass:abc", "pass:101", "pass:60,pass:70"):
        with pytest.raises(ValueError, match="EVALUATION_GRADE_BANDS"):
            grade_bands(bad)
