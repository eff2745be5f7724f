"""绩效评价 pages: happy paths, 422 keeping input, 409, permissions, bad inputs, the template editor, 考核."""
from __future__ import annotations

from decimal import Decimal

import pytest

from incubator.accounts.models import Role
from incubator.extensions import db as _db
from incubator.projects.evaluations import services
from incubator.projects.evaluations.models import EvaluationStage, EvaluationStatus, IndicatorTemplate
from tests.conftest import login_as
from tests.factories import make_district, make_user
from tests.projects.evaluations.helpers import evaluation_world, score


def _client(app, user):
    c = app.test_client()
    login_as(c, user)
    return c


def _url(ev, tail=""):
    return f"/projects/{ev.project_id}/evaluations/{ev.id}{tail}"


def test_evaluator_scores_saves_and_submits(app, db):
    project, staff, evaluator, ev = evaluation_world()
    db.session.commit()
    c = _client(app, evaluator)
    page = c.get(_url(ev, "/score")).get_data(as_text=True)
    assert "活动完成率" in page and "资金使用合规性" in page and 'name="score-1.1"' in page
    r = c.post(_url(ev, "/score"), data={"score-1.1": "35", "score-1.2": "18.5", "comment-1.1": "按计划完成",
                                         "action": "save"})
    assert r.status_code == 302
    page = c.get(_url(ev, "/score")).get_data(as_text=True)
    assert 'value="35.00"' in page and "按计划完成" in page and "53.50" in page
    r = c.post(_url(ev, "/score"), data={"score-1.1": "35", "score-1.2": "18.5", "score-2.1": "30",
                                         "summary": "总体良好", "action": "submit"})
    assert r.status_code == 302
    _db.session.expire_all()
    ev = _db.session.get(type(ev), ev.id)
    assert ev.status == EvaluationStatus.SUBMITTED and ev.total == Decimal("83.50")
    # re-submitting after the lock: 409
    r = c.post(_url(ev, "/score"), data={"score-1.1": "40", "action": "save"})
    assert r.status_code == 409
    assert c.get(_url(ev, "/score")).status_code == 302


@pytest.mark.parametrize("value", ["-1", "40.01", "5.555", "abc", "NaN", "Infinity", "1e309", "１２３", "<script>", "1,0"])
def test_bad_scores_are_refused_and_input_is_kept(app, db, value):
    project, staff, evaluator, ev = evaluation_world()
    db.session.commit()
    c = _client(app, evaluator)
    r = c.post(_url(ev, "/score"), data={"score-1.1": value, "score-1.2": "12", "comment-1.2": "保留的说明",
                                         "action": "submit"})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "is-invalid" in page and 'value="12"' in page and "保留的说明" in page
    assert "<script>" not in page.split("<body", 1)[1].replace('<script src=', '')
    _db.session.expire_all()
    assert _db.session.get(type(ev), ev.id).scores == []


def test_submit_with_missing_scores_is_refused(app, db):
    project, staff, evaluator, ev = evaluation_world()
    db.session.commit()
    r = _client(app, evaluator).post(_url(ev, "/score"), data={"score-1.1": "30", "action": "submit"})
    assert r.status_code == 422 and "项指标未评分" in r.get_data(as_text=True)


def test_bonus_above_cap_and_mass_assignment(app, db):
    project, staff, evaluator, ev = evaluation_world()
    db.session.commit()
    c = _client(app, evaluator)
    r = c.post(_url(ev, "/score"), data={"score-1.1": "30", "bonus": "9", "bonus_note": "x", "action": "save"})
    assert r.status_code == 422 and "加分须在0至5分之间" in r.get_data(as_text=True)
    r = c.post(_url(ev, "/score"), data={"score-1.1": "30", "status": "confirmed", "total": "100", "grade": "excellent",
                                         "evaluator_id": str(staff.id), "action": "save"})
    assert r.status_code == 302
    _db.session.expire_all()
    ev = _db.session.get(type(ev), ev.id)
    assert ev.status == EvaluationStatus.ASSIGNED and ev.total is None and ev.evaluator_id == evaluator.id


def test_only_the_assigned_evaluator_scores_and_sees(app, db):
    project, staff, evaluator, ev = evaluation_world()
    other = make_user(Role.EVALUATOR)
    db.session.commit()
    assert _client(app, staff).get(_url(ev, "/score")).status_code == 403
    oc = _client(app, other)
    assert oc.get(_url(ev, "/score")).status_code == 404
    assert oc.get(f"/projects/{project.id}/evaluations").status_code == 404
    # the assigned evaluator sees the evaluation pages, nothing else of the project
    ec = _client(app, evaluator)
    page = ec.get(f"/projects/{project.id}/evaluations").get_data(as_text=True)
    assert "中期评估" in page and "预算与支出" not in page and "概况" not in page
    assert ec.get(f"/projects/{project.id}").status_code == 404


def test_org_sees_confirmed_results_only(app, db):
    project, staff, evaluator, ev = evaluation_world()
    member = make_user(Role.APPLICANT, org=project.org)
    score(ev, 75)
    db.session.commit()
    mc = _client(app, member)
    assert mc.get(_url(ev)).status_code == 404
    assert "测试指标体系" not in mc.get(f"/projects/{project.id}/evaluations").get_data(as_text=True)
    services.confirm_evaluation(ev, by=staff, report=False)
    db.session.commit()
    page = mc.get(_url(ev)).get_data(as_text=True)
    assert "75.00" in page and "合格" in page and "确认评价结果" not in page
    assert mc.post(_url(ev, "/return"), data={"reason": "x"}).status_code == 403


def test_other_district_gets_404_and_finance_reads_only(app, db):
    project, staff, evaluator, ev = evaluation_world()
    far = make_user(Role.STAFF, district=make_district(name="远区", code="410399"))
    finance = make_user(Role.FINANCE)
    score(ev, 75)
    db.session.commit()
    fc = _client(app, far)
    assert fc.get(f"/projects/{project.id}/evaluations").status_code == 404
    assert fc.post(_url(ev, "/confirm")).status_code == 404
    fin = _client(app, finance)
    page = fin.get(_url(ev)).get_data(as_text=True)
    assert "75.00" in page and "确认评价结果" not in page
    assert fin.post(_url(ev, "/confirm")).status_code == 403
    assert fin.post(f"/projects/{project.id}/evaluations", data={"stage": "final"}).status_code == 403


def test_staff_confirm_and_return(app, db, run_jobs):
    project, staff, evaluator, ev = evaluation_world()
    score(ev, 82)
    db.session.commit()
    c = _client(app, staff)
    page = c.get(_url(ev)).get_data(as_text=True)
    assert "确认评价结果" in page and "data-confirm" in page
    r = c.post(_url(ev, "/return"), data={"reason": ""})
    assert r.status_code == 422 and "请填写理由" in r.get_data(as_text=True)
    r = c.post(_url(ev, "/confirm"))
    assert r.status_code == 302
    run_jobs()
    ev = _db.session.get(type(ev), ev.id)
    assert ev.status == EvaluationStatus.CONFIRMED and ev.report_file_id is not None
    r = c.get(_url(ev, "/report.pdf"))
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    r.close()
    assert c.post(_url(ev, "/confirm")).status_code == 302  # wrong state: flashed and redirected
    assert c.post(_url(ev, "/report")).status_code == 302  # report exists already: 409 flash


def test_assign_form(app, db):
    project, staff, evaluator, ev = evaluation_world()
    db.session.commit()
    c = _client(app, staff)
    page = c.get(f"/projects/{project.id}/evaluations").get_data(as_text=True)
    assert "安排评价" in page and evaluator.name in page
    bad = {"stage": "yearly", "template_id": "abc", "evaluator_id": "-1", "due_on": "2026-02-30"}
    r = c.post(f"/projects/{project.id}/evaluations", data=bad)
    assert r.status_code == 422 and "日期不存在" in r.get_data(as_text=True)
    r = c.post(f"/projects/{project.id}/evaluations", data={"stage": "midterm", "template_id": str(ev.template_id),
                                                            "evaluator_id": str(evaluator.id)})
    assert r.status_code == 409
    r = c.post(f"/projects/{project.id}/evaluations", data={"stage": "final", "template_id": str(ev.template_id),
                                                            "evaluator_id": str(evaluator.id), "due_on": "2099-01-01"})
    assert r.status_code == 302
    assert {e.stage for e in services.project_evaluations(project)} == {EvaluationStage.MIDTERM, EvaluationStage.FINAL}


@pytest.mark.parametrize("pid", ["0", "-1", "99999999999", "abc"])
def test_bad_ids(app, db, pid):
    staff = make_user(Role.STAFF)
    db.session.commit()
    assert _client(app, staff).get(f"/projects/{pid}/evaluations").status_code == 404


def test_template_editor(app, db):
    staff = make_user(Role.STAFF, district=make_district())
    db.session.commit()
    c = _client(app, staff)
    assert "还没有指标体系" in c.get("/staff/indicator-templates").get_data(as_text=True)
    assert c.get("/staff/indicator-templates/new").status_code == 200
    form = {"name": "<script>alert(1)</script>社区服务评价", "for_final": "y", "active": "y", "overdue_deduction": "2",
            "overdue_deduction_cap": "10", "bonus_cap": "5",
            "row-0-code": "1", "row-0-name": "项目管理", "row-0-points": "", "row-0-notes": "",
            "row-1-code": "1.1", "row-1-name": "计划执行", "row-1-points": "60", "row-1-notes": "按计划",
            "row-2-code": "2", "row-2-name": "满意度", "row-2-points": "39.5", "row-2-notes": "问卷"}
    r = c.post("/staff/indicator-templates/new", data=form)
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "合计须为100分，当前为99.5分" in page and 'value="39.5"' in page
    assert "<script>alert(1)" not in page
    form["row-2-points"] = "40"
    r = c.post("/staff/indicator-templates/new", data=form)
    assert r.status_code == 302
    t = _db.session.scalar(_db.select(IndicatorTemplate))
    assert t.name == "<script>alert(1)</script>社区服务评价" and not t.for_midterm
    page = c.get(f"/staff/indicator-templates/{t.id}").get_data(as_text=True)
    assert "计划执行" in page and 'value="1.1"' in page
    listing = c.get("/staff/indicator-templates?q=社区").get_data(as_text=True)
    assert "社区服务评价" in listing and "<script>alert(1)" not in listing
    assert "没有符合条件" in c.get("/staff/indicator-templates?q=不存在").get_data(as_text=True)
    form["row-1-points"] = "abc"
    r = c.post(f"/staff/indicator-templates/{t.id}", data=form)
    assert r.status_code == 422 and "分值格式不正确" in r.get_data(as_text=True)
    r = c.post(f"/staff/indicator-templates/{t.id}/delete")
    assert r.status_code == 302 and _db.session.scalar(_db.select(IndicatorTemplate)) is None


def test_my_evaluations(app, db):
    project, staff, evaluator, ev = evaluation_world()
    db.session.commit()
    c = _client(app, evaluator)
    page = c.get("/evaluator/evaluations").get_data(as_text=True)
    assert project.number in page and "评分" in page
    assert "暂无评价任务" in c.get("/evaluator/evaluations?status=confirmed").get_data(as_text=True)
    assert c.get("/evaluator/evaluations?status=%27+OR+1%3D1--").status_code == 200
    assert _client(app, make_user(Role.FINANCE)).get("/evaluator/evaluations").status_code == 403


def test_annual_assessment_and_export(app, db):
    from openpyxl import load_workbook
    import io

    project, staff, evaluator, ev = evaluation_world(stage=EvaluationStage.FINAL)
    score(ev, 85)
    services.confirm_evaluation(ev, by=staff, report=False)
    p2, staff2, _e, ev2 = evaluation_world(stage=EvaluationStage.FINAL, org=project.org, by=staff)
    score(ev2, 65)
    services.confirm_evaluation(ev2, by=staff, report=False)
    _p3, staff3, _e3, ev3 = evaluation_world()
    score(ev3, 40)
    services.confirm_evaluation(ev3, by=staff3, report=False)
    year = ev.confirmed_at.year
    rows = {r.org.id: r for r in services.annual_assessment(make_user(Role.ADMIN), year)}
    assert rows[project.org_id].result.label == "合格"  # the worst final grade
    assert rows[ev3.project.org_id].result.label == "不合格"
    # district staff see only their district
    assert [r.org.id for r in services.annual_assessment(staff, year)] == [project.org_id]
    db.session.commit()
    c = _client(app, staff)
    page = c.get(f"/staff/assessments?year={year}").get_data(as_text=True)
    assert project.org.name in page and "合格" in page and ev3.project.org.name not in page
    r = c.get(f"/staff/assessments/export?year={year}")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.data)).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][0] == "承接主体" and len(values) == 3 and values[1][8] == "合格"
    assert c.get(f"/staff/assessments?year={year}&page=abc&result=fail&q=%27+OR+1%3D1--").status_code == 200
    assert "没有符合条件" in c.get(f"/staff/assessments?year={year}&page=9").get_data(as_text=True)
    assert project.org.name in c.get(f"/staff/assessments?year={year}&result=pass").get_data(as_text=True)
    assert _client(app, make_user(Role.FINANCE)).get("/staff/assessments").status_code == 403


def test_assign_form_preselects_a_template_for_the_stage_to_arrange(app, db):
    import re

    from incubator.projects.evaluations.demo import seed_templates

    project, staff, evaluator, ev = evaluation_world()  # its mid-term is arranged: the final comes next
    templates = seed_templates(by=staff)
    db.session.commit()
    page = _client(app, staff).get(f"/projects/{project.id}/evaluations").get_data(as_text=True)
    selected = re.search(r'<option selected value="(\d+)">', page.split('name="template_id"')[1])
    chosen = db.session.get(IndicatorTemplate, int(selected.group(1)))
    assert chosen.fits(EvaluationStage.FINAL), chosen.name
    assert any(not t.fits(EvaluationStage.FINAL) for t in templates)  # a mid-term-only template exists to skip
