"""Factories of the public-site tests: funded projects in a given state, with a confirmed final grade."""
from __future__ import annotations

import itertools
from datetime import date

from incubator.accounts.models import Role
from incubator.core.states import transition
from incubator.projects import services as project_services
from incubator.projects.evaluations import services as evaluation_services
from incubator.projects.evaluations.models import EvaluationStage
from incubator.projects.models import ProjectStatus, TrancheCondition
from tests.factories import make_user
from tests.projects.evaluations.helpers import make_template, score
from tests.projects.helpers import launch, staff_for

_seq = itertools.count(1)


def funded(org, *, by=None, status: ProjectStatus = ProjectStatus.IN_PROGRESS, final: int | None = None,
           title: str | None = None, **kw):
    """A project of ``org`` brought to ``status`` (launched … closed / terminated); ``final`` (a total
    score) confirms a final evaluation on the way. Returns the project."""
    by = by or staff_for(org)
    n = next(_seq)
    project = launch(org, by=by, title=title or f"社区服务项目{n}", **kw)
    if status == ProjectStatus.LAUNCHED:
        return project
    project_services.mark_condition_met(project, TrancheCondition.ON_SIGNING, by=by, on=date(2026, 3, 1))
    if status != ProjectStatus.CONTRACTED:
        transition(project, ProjectStatus.IN_PROGRESS, by=by, note="首期资金已拨付")
    if final is not None:
        evaluator = make_user(Role.EVALUATOR)
        template = make_template(by=by, name=f"结项指标{n}")
        ev = evaluation_services.assign_evaluation(project, stage=EvaluationStage.FINAL, template=template,
                                                   evaluator=evaluator, by=by)
        score(ev, final)
        evaluation_services.confirm_evaluation(ev, by=by, report=False)
    if status == ProjectStatus.CLOSED:
        project_services.close_project(project, by=by, note="结项")
    elif status == ProjectStatus.TERMINATED:
        project_services.terminate_project(project, by=by, reason="承接主体申请终止")
    return project
