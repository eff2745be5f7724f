"""Demo data of 绩效评价: the default indicator templates and a confirmed mid-term evaluation.

``seed_templates(by=None)`` creates (once, by name) the two default templates:
  * 公益服务项目绩效评价指标（通用） — 项目管理、资金管理、项目产出、项目效益、满意度 (issue 5), both stages;
  * 中期评估指标（实施·投入·财务·成效） — 项目实施、人员与物资投入、财务管理、项目成效 (DOMAIN.md), mid-term.
``seed(project, *, staff, evaluator, **_)``: a mid-term evaluation scored by ``evaluator`` (a 第三方评估机构
account) and confirmed by ``staff`` as 合格 (about 75 points) — the mid-term tranche becomes requestable.
Returns the evaluation. Both flush and never commit.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from incubator.extensions import db
from incubator.projects.evaluations import services
from incubator.projects.evaluations.models import EvaluationStage, IndicatorTemplate

GENERAL = "公益服务项目绩效评价指标（通用）"
MIDTERM = "中期评估指标（实施·投入·财务·成效）"

GENERAL_ROWS = [
    ("1", "项目管理", None, ""),
    ("1.1", "组织实施", None, ""),
    ("1.1.1", "实施方案与计划执行", "6", "按实施方案和进度计划开展服务，偏差有书面说明"),
    ("1.1.2", "项目台账与档案管理", "6", "服务台账完整，签到表、照片等过程资料齐全规范"),
    ("1.2", "制度与监督", None, ""),
    ("1.2.1", "管理制度健全性", "4", "项目管理、财务、人员制度健全并执行"),
    ("1.2.2", "进度报告按时提交", "4", "按时提交进度报告（逾期报告另按份扣分）"),
    ("2", "资金管理", None, ""),
    ("2.1", "预算执行", None, ""),
    ("2.1.1", "预算执行率", "6", "执行率≥90%得满分，每低10个百分点扣1分"),
    ("2.1.2", "支出与预算相符", "4", "支出科目、金额与核定预算相符，调整按规定审批"),
    ("2.2", "财务合规", None, ""),
    ("2.2.1", "资金使用合规性", "6", "无截留、挤占、挪用，票据真实合规"),
    ("2.2.2", "会计核算规范性", "4", "专账核算，账目清晰"),
    ("3", "项目产出", None, ""),
    ("3.1", "产出数量", None, ""),
    ("3.1.1", "服务人数完成率", "8", "服务人数（人次）达到合同约定数量"),
    ("3.1.2", "活动场次完成率", "7", "活动场次达到合同约定数量"),
    ("3.2", "产出质量", None, ""),
    ("3.2.1", "服务质量达标率", "6", "符合合同约定的质量标准"),
    ("3.2.2", "服务及时性", "4", "按计划时间完成各项服务"),
    ("4", "项目效益", None, ""),
    ("4.1", "社会效益", None, ""),
    ("4.1.1", "受益对象问题改善", "8", "服务对象需求得到回应，问题有改善"),
    ("4.1.2", "社区参与与志愿服务", "7", "带动居民参与、志愿者服务时长"),
    ("4.2", "可持续影响", None, ""),
    ("4.2.1", "服务模式可持续性", "5", "形成可持续的服务机制"),
    ("4.2.2", "示范与推广价值", "5", "经验可复制推广，有宣传报道"),
    ("5", "满意度", None, ""),
    ("5.1", "相关方满意度", None, ""),
    ("5.1.1", "服务对象满意度", "6", "由评价人依据问卷调查结果填写：满意度≥90%得满分"),
    ("5.1.2", "购买主体与社区满意度", "4", "由评价人依据问卷或访谈结果填写"),
]

MIDTERM_ROWS = [
    ("1", "项目实施", None, ""),
    ("1.1", "进度完成情况", None, ""),
    ("1.1.1", "计划活动完成率", "10", "已完成活动占中期计划的比例"),
    ("1.1.2", "服务对象覆盖率", "8", "已服务对象占计划的比例"),
    ("1.2", "过程管理", None, ""),
    ("1.2.1", "过程记录与台账", "6", "签到表、活动记录、照片等过程资料"),
    ("1.2.2", "风险识别与应对", "6", ""),
    ("2", "人员与物资投入", None, ""),
    ("2.1", "人员配置", None, ""),
    ("2.1.1", "专职社工到岗率", "7", "与申报书团队一致，变更有报备"),
    ("2.1.2", "志愿者动员", "5", ""),
    ("2.2", "物资与场地", None, ""),
    ("2.2.1", "物资投入到位", "4", ""),
    ("2.2.2", "场地设施保障", "4", ""),
    ("3", "财务管理", None, ""),
    ("3.1", "资金使用", None, ""),
    ("3.1.1", "预算执行进度", "8", "与项目进度相匹配"),
    ("3.1.2", "支出合规性", "8", "支出符合预算科目和财务制度"),
    ("3.1.3", "票据与核算", "4", "票据齐全，专账核算"),
    ("4", "项目成效", None, ""),
    ("4.1", "阶段成效", None, ""),
    ("4.1.1", "阶段目标达成度", "12", ""),
    ("4.1.2", "服务对象变化", "8", "服务对象在知识、能力、关系等方面的变化"),
    ("4.2", "满意度", None, ""),
    ("4.2.1", "服务对象满意度", "10", "由评价人依据问卷调查结果填写"),
]


def _rows(spec) -> list[services.IndicatorRow]:
    return [services.IndicatorRow(code=c, name=n, max_points=Decimal(p) if p else None, notes=t) for c, n, p, t in spec]


def seed_templates(by=None) -> list[IndicatorTemplate]:
    """The default templates (created once; an existing template of the same name is kept as it is)."""
    from incubator.accounts.models import Role, User

    if by is None:
        by = db.session.scalar(select(User).where(User.role.in_([Role.ADMIN, Role.STAFF])).order_by(User.id).limit(1))
    out = []
    for name, spec, midterm, final, desc in (
        (GENERAL, GENERAL_ROWS, True, True, "参照政府购买服务与公益创投项目绩效评价实践：项目管理、资金管理、项目产出、项目效益、满意度。"),
        (MIDTERM, MIDTERM_ROWS, True, False, "中期评估四个维度：项目实施、人员与物资投入、财务管理、项目成效；合格线60分。"),
    ):
        existing = db.session.scalar(select(IndicatorTemplate).where(IndicatorTemplate.name == name))
        if existing is not None:
            out.append(existing)
            continue
        data = services.TemplateData(name=name, rows=_rows(spec), description=desc, for_midterm=midterm,
                                     for_final=final)
        out.append(services.create_template(data, by=by))
    return out


PASS_REMARKS = ("基本达到中期计划要求", "项目总体按计划推进，台账较完整；服务对象覆盖率和志愿者动员有待提高。")
FAIL_REMARKS = ("未达到中期计划要求", "服务数量仅完成合同约定的38%，经书面督促整改后仍未达到要求，且部分支出无合规票据。")


def seed(project, *, staff, evaluator, share: Decimal = Decimal("0.75"), **_):
    """A confirmed mid-term scored by ``evaluator`` at ``share`` of every indicator's points: the default
    (about 75) is 合格; a share of 0.5 (about 50) is 不合格 and stops the next tranche."""
    seed_templates(by=staff)
    template = db.session.scalar(select(IndicatorTemplate).where(IndicatorTemplate.name == MIDTERM))
    ev = services.assign_evaluation(project, stage=EvaluationStage.MIDTERM, template=template, evaluator=evaluator,
                                    by=staff)
    points = {n["code"]: (n["max_points"] * share).quantize(Decimal("0.5"), rounding=ROUND_HALF_UP)
              for n in ev.leaves}
    comment, summary = PASS_REMARKS if share >= Decimal("0.6") else FAIL_REMARKS
    services.save_scores(ev, services.ScoreInput(points=points, comments={code: comment for code in points},
                                                 summary=summary), by=evaluator)
    services.submit_evaluation(ev, by=evaluator)
    services.confirm_evaluation(ev, by=staff)
    return ev
