"""Who may reach each 绩效评价 route (tests/test_access.py walks these).

The project belongs to district A's organisation; the world's ``evaluator`` is assigned its mid-term.
The tab: members of the organisation (confirmed results only), district A and city staff, finance and
admins (read-only), and the assigned evaluator; district B staff, the other organisation and experts 404.
An evaluation in progress: staff, finance, admins and its evaluator (the organisation 404 until it is
confirmed). Scoring: the assigned evaluator only. Assigning, confirming, returning, cancelling: district A
and city staff. Indicator templates and the annual assessment: staff and admins. The evaluator's own list:
evaluators, experts and staff (roles that can be assigned an evaluation).
"""
from __future__ import annotations

from tests.access import DENY, LOGIN, OK, Rule

VIEW = {"applicant_a": OK, "staff_a": OK, "staff_city": OK, "finance": OK, "admin": OK, "evaluator": OK}
IN_PROGRESS = {"staff_a": OK, "staff_city": OK, "finance": OK, "admin": OK, "evaluator": OK}
MANAGE = {"staff_a": OK, "staff_city": OK}
EVALUATOR = {"evaluator": OK}
STAFF = {"staff_a": OK, "staff_b": OK, "staff_city": OK, "admin": OK}
EVALUATORS = {"evaluator": OK, "expert_assigned": OK, "expert_unassigned": OK, "expert_conflict": OK,
              "staff_a": OK, "staff_b": OK, "staff_city": OK}


def _assigned(w):
    from tests.projects.evaluations.helpers import make_template
    from tests.projects.helpers import scheduled

    from incubator.projects.evaluations import services
    from incubator.projects.evaluations.models import EvaluationStage

    w.project, _staff = scheduled(org=w.org_a, by=w.staff_a)
    w.template = make_template(by=w.staff_a, name="通用指标")
    w.ev = services.assign_evaluation(w.project, stage=EvaluationStage.MIDTERM, template=w.template,
                                      evaluator=w.evaluator, by=w.staff_a)


def _submitted(w):
    from tests.projects.evaluations.helpers import score

    _assigned(w)
    score(w.ev, 75)


def _confirmed(w):
    from incubator.projects.evaluations import services

    _submitted(w)
    services.confirm_evaluation(w.ev, by=w.staff_a, report=False)


def _with_report(w):
    from incubator.projects.evaluations import services

    _confirmed(w)
    services.attach_report(w.ev, b"%PDF-1.4\n% test\n", by=w.staff_a)


def _project_url(w):
    return f"/projects/{w.project.id}/evaluations"


def _ev_url(w, tail=""):
    return f"/projects/{w.project.id}/evaluations/{w.ev.id}{tail}"


def _scores(w):
    return {"score-1.1": "30", "score-1.2": "15", "score-2.1": "30", "comment-1.1": "良好", "status": "confirmed",
            "total": "100", "action": "save"}


def _assign(w):
    return {"stage": "final", "template_id": str(w.template.id), "evaluator_id": str(w.evaluator.id)}


def _template_form(w):
    return {"name": "新指标体系", "for_midterm": "y", "for_final": "y", "active": "y", "overdue_deduction": "2",
            "overdue_deduction_cap": "10", "bonus_cap": "5", "row-0-code": "1", "row-0-name": "项目实施",
            "row-0-points": "100", "row-0-notes": ""}


RULES = [
    Rule("evaluations.project_evaluations", "GET", _project_url, allow=VIEW, setup=_assigned),
    Rule("evaluations.project_evaluations", "GET", _project_url, allow=VIEW, setup=_confirmed),
    Rule("evaluations.project_evaluations", "GET", lambda w: "/projects/99999999999/evaluations", allow={},
         others=DENY),
    Rule("evaluations.assign", "POST", _project_url, allow=MANAGE, setup=_assigned, data=_assign),
    Rule("evaluations.detail", "GET", _ev_url, allow=IN_PROGRESS, setup=_assigned),
    Rule("evaluations.detail", "GET", _ev_url, allow=VIEW, setup=_confirmed),
    Rule("evaluations.detail", "GET", lambda w: f"/projects/{w.project.id}/evaluations/0",
         allow={"anonymous": LOGIN}, others=DENY, setup=_assigned),
    Rule("evaluations.score", "GET", lambda w: _ev_url(w, "/score"), allow=EVALUATOR, setup=_assigned),
    Rule("evaluations.score", "POST", lambda w: _ev_url(w, "/score"), allow=EVALUATOR, setup=_assigned,
         data=_scores),
    Rule("evaluations.confirm", "POST", lambda w: _ev_url(w, "/confirm"), allow=MANAGE, setup=_submitted),
    Rule("evaluations.return_evaluation", "POST", lambda w: _ev_url(w, "/return"), allow=MANAGE, setup=_submitted,
         data=lambda w: {"reason": "请补充满意度问卷"}),
    Rule("evaluations.cancel", "POST", lambda w: _ev_url(w, "/cancel"), allow=MANAGE, setup=_assigned,
         data=lambda w: {"reason": "评价人回避"}),
    Rule("evaluations.regenerate_report", "POST", lambda w: _ev_url(w, "/report"), allow=MANAGE, setup=_with_report),
    Rule("evaluations.report", "GET", lambda w: _ev_url(w, "/report.pdf"), allow=VIEW, setup=_with_report),
    Rule("evaluations.my_evaluations", "GET", lambda w: "/evaluator/evaluations", allow=EVALUATORS, setup=_assigned),
    Rule("evaluations.templates", "GET", lambda w: "/staff/indicator-templates?q=%27+OR+1%3D1--&active=x&page=-1",
         allow=STAFF, setup=_assigned),
    Rule("evaluations.new_template", "GET", lambda w: "/staff/indicator-templates/new", allow=STAFF),
    Rule("evaluations.new_template", "POST", lambda w: "/staff/indicator-templates/new", allow=STAFF,
         data=_template_form),
    Rule("evaluations.edit_template", "GET", lambda w: f"/staff/indicator-templates/{w.template.id}", allow=STAFF,
         setup=_assigned),
    Rule("evaluations.edit_template", "POST", lambda w: f"/staff/indicator-templates/{w.template.id}", allow=STAFF,
         setup=_assigned, data=_template_form),
    Rule("evaluations.delete_template", "POST", lambda w: f"/staff/indicator-templates/{w.template.id}/delete",
         allow=STAFF, setup=_assigned),
    Rule("evaluations.assessments", "GET", lambda w: "/staff/assessments?year=2026", allow=STAFF, setup=_confirmed),
    Rule("evaluations.assessments_export", "GET", lambda w: "/staff/assessments/export?year=abc", allow=STAFF,
         setup=_confirmed),
]
