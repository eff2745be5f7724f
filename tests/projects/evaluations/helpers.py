"""Factories of the evaluation tests: a small template, an assigned evaluation, scoring to a given total."""
from __future__ import annotations

from decimal import Decimal

from incubator.accounts.models import Role
from incubator.projects.evaluations import services
from incubator.projects.evaluations.models import EvaluationStage
from tests.factories import make_user
from tests.projects.helpers import scheduled

ROWS = [
    ("1", "项目实施", None, "实施情况"),
    ("1.1", "活动完成率", "40", "按计划完成活动"),
    ("1.2", "台账管理", "20", "台账完整"),
    ("2", "财务管理", None, ""),
    ("2.1", "资金使用合规性", "40", "无挪用"),
]


def rows(spec=ROWS) -> list[services.IndicatorRow]:
    return [services.IndicatorRow(code=c, name=n, max_points=Decimal(p) if p else None, notes=t) for c, n, p, t in spec]


def make_template(*, by=None, name="测试指标体系", spec=ROWS, **kw):
    by = by or make_user(Role.ADMIN)
    return services.create_template(services.TemplateData(name=name, rows=rows(spec), **kw), by=by)


def evaluation_world(*, stage=EvaluationStage.MIDTERM, evaluator=None, **kw):
    """(project, staff, evaluator, evaluation): a scheduled 50/30/20 project with an assigned evaluation."""
    project, staff = scheduled(**kw)
    evaluator = evaluator or make_user(Role.EVALUATOR)
    template = make_template(by=staff, name=f"测试指标体系{project.id}")
    ev = services.assign_evaluation(project, stage=stage, template=template, evaluator=evaluator, by=staff)
    return project, staff, evaluator, ev


def points_for(ev, total) -> dict:
    """Leaf points that add up to ``total`` (filled in order)."""
    left = Decimal(str(total))
    out = {}
    for leaf in ev.leaves:
        take = min(left, leaf["max_points"])
        out[leaf["code"]] = take
        left -= take
    assert left == 0
    return out


def score(ev, total, *, by=None, submit=True, **kw):
    data = services.ScoreInput(points=points_for(ev, total), comments={c: f"说明{c}" for c in ev.leaves and
                                                                         [n["code"] for n in ev.leaves]}, **kw)
    services.save_scores(ev, data, by=by or ev.evaluator)
    if submit:
        services.submit_evaluation(ev, by=by or ev.evaluator)
    return ev
