"""Services of 绩效评价: indicator templates, evaluations (assign → score → submit → confirm | return), their
consequences on the tranches, the evaluation report, the staff desk and the suppliers' annual 考核 list.

They take model objects and typed keyword arguments, flush and never commit. Refusals raise
``EvaluationError`` (Chinese message; ``status`` 422 for bad input, 409 for the wrong state); a user without
the right raises ``NotAllowed`` (403).

Interface for other areas
-------------------------
``latest_grade(project, stage) -> EvaluationGrade | None``: the grade of the last confirmed evaluation.
``final_grades_for_org(org) -> list[(project, evaluation)]``: confirmed final evaluations of an organisation's
projects (its record; the public directory may show them).
``desk_items(user)``: for the staff desk (incubator.projects.desk).

Scoring rule: total = Σ leaf points + bonus (≤ the template's bonus cap) − deduction − overdue deduction
(overdue reports × the template's points per report, at most its cap; the count comes from
``incubator.projects.reports.services.overdue_count(project)``), kept within 0–100, two places; the grade
comes from GRADE_BANDS (models.py).

Consequences of confirming (incubator.projects.services): a mid-term 合格 or better →
``mark_condition_met(project, ON_MIDTERM_PASS)`` (its tranche becomes requestable); a mid-term 不合格 →
``record_midterm_failed(project)`` (the next tranche is stopped); a final 合格 or better →
``mark_condition_met(project, ON_FINAL_ACCEPTANCE)``. A final 不合格 changes no tranche (the exit area decides).

Annual assessment (考核) of a supplier for year Y (``annual_assessment``): its projects whose term touches Y
or that have an evaluation confirmed in Y. Result: 不合格 when any of its evaluations confirmed in Y is
不合格 (mid-term or final: a failed project is stopped and, as a rule, terminated for failure), or a project
of it was terminated in Y for a failed evaluation or a breach (exits area: Termination.reason_kind), or
after a failed mid-term in Y; otherwise the worst final grade confirmed in Y; with no
final grade in Y, 暂无评价 (no result).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import selectinload

from incubator.core import audit
from incubator.core.states import transition
from incubator.db import from_local, today_local, to_local, utcnow
from incubator.extensions import db
from incubator.projects.evaluations.models import (
    FULL_MARKS,
    GRADE_ORDER,
    SCORING_STATUSES,
    EvaluationGrade,
    EvaluationScore,
    EvaluationStage,
    EvaluationStatus,
    Indicator,
    IndicatorTemplate,
    PerformanceEvaluation,
    grade_for,
    passes,
)

ZERO = Decimal("0")
CENT = Decimal("0.01")
MAX_NAME = 100
MAX_TEXT = 5000
CODE_RE = re.compile(r"^[1-9][0-9]?(?:\.[1-9][0-9]?){0,2}$")
# The desk warns this many days before a stage is due (mid-point, term end) and calls it overdue this
# many days after. [design]
DESK_LEAD_DAYS = 0
DESK_OVERDUE_DAYS = 30


def points_text(value) -> str:
    """Points for a message: 99.5, 40, 0.25."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class EvaluationError(Exception):
    """A refused change; the message is Chinese and shown to the user."""

    def __init__(self, message: str, *, status: int = 422, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors = errors or {}


class NotAllowed(EvaluationError):
    def __init__(self, message: str):
        super().__init__(message, status=403)


# ---------------------------------------------------------------- who

def may_edit_templates(user) -> bool:
    from incubator.accounts.models import Role

    return bool(getattr(user, "is_authenticated", False)) and user.role in (Role.STAFF, Role.ADMIN)


def may_evaluate(user) -> bool:
    """Roles that can be assigned an evaluation: 第三方评估机构, experts, staff."""
    from incubator.accounts.models import Role

    return bool(getattr(user, "is_authenticated", False)) and user.role in (Role.EVALUATOR, Role.EXPERT, Role.STAFF)


def _require_manager(project, by) -> None:
    if not project.can_manage(by):
        raise NotAllowed("只有项目所在辖区的民政工作人员可以办理")


# ---------------------------------------------------------------- indicator templates

@dataclass
class IndicatorRow:
    """One row of the template editor: code "1" / "1.2" / "1.2.3" places it in the tree."""

    code: str
    name: str
    max_points: Decimal | None = None
    notes: str = ""


@dataclass
class TemplateData:
    name: str
    rows: list[IndicatorRow]
    description: str = ""
    for_midterm: bool = True
    for_final: bool = True
    active: bool = True
    overdue_deduction: Decimal = Decimal("2")
    overdue_deduction_cap: Decimal = Decimal("10")
    bonus_cap: Decimal = Decimal("5")
    errors: dict = field(default_factory=dict)


def _code_key(code: str) -> tuple[int, ...]:
    return tuple(int(p) for p in code.split("."))


def check_tree(rows: list[IndicatorRow]) -> tuple[list[dict], dict]:
    """Validate the rows; returns (nodes in tree order with parent, level, max_points, leaf, errors).

    errors: {row index: message} for a row, {"tree": message} for the whole. A parent's max_points may be
    left blank (the sum of its children) or must equal that sum; the leaves must sum to exactly 100.
    """
    errors: dict = {}
    seen: dict[str, int] = {}
    kept: list[tuple[int, IndicatorRow]] = []
    for i, row in enumerate(rows):
        code = (row.code or "").strip()
        name = " ".join((row.name or "").split())
        if not code and not name and row.max_points is None and not (row.notes or "").strip():
            continue  # a blank row of the editor
        if not CODE_RE.match(code):
            errors[i] = "编号格式不正确：一级写“1”，二级写“1.1”，三级写“1.1.1”"
            continue
        if code in seen:
            errors[i] = f"编号“{code}”重复"
            continue
        if not name:
            errors[i] = "请填写指标名称"
            continue
        if len(name) > MAX_NAME:
            errors[i] = f"指标名称不能超过{MAX_NAME}个字"
            continue
        if row.max_points is not None and not (ZERO < row.max_points <= FULL_MARKS):
            errors[i] = "分值须大于0且不超过100"
            continue
        seen[code] = i
        kept.append((i, IndicatorRow(code=code, name=name, max_points=row.max_points,
                                     notes=(row.notes or "").strip()[:MAX_TEXT])))
    if not kept and not errors:
        errors["tree"] = "请至少填写一项指标"
    codes = {r.code for _, r in kept}
    children: dict[str, list[str]] = {}
    for i, row in kept:
        parent = row.code.rpartition(".")[0] or None
        if parent is not None and parent not in codes:
            errors[i] = f"上级指标“{parent}”不存在"
        children.setdefault(parent or "", []).append(row.code)
    by_code = {r.code: (i, r) for i, r in kept}
    points: dict[str, Decimal] = {}

    def total(code: str) -> Decimal:
        i, row = by_code[code]
        kids = children.get(code, [])
        if not kids:
            if row.max_points is None:
                errors.setdefault(i, "末级指标须填写分值（权重）")
                points[code] = ZERO
            else:
                points[code] = row.max_points
            return points[code]
        s = sum((total(k) for k in kids), ZERO)
        if row.max_points is not None and row.max_points != s:
            errors.setdefault(i, f"分值{points_text(row.max_points)}与下级指标分值之和{points_text(s)}不一致（可留空自动计算）")
        points[code] = s
        return s

    leaf_sum = ZERO
    for code in sorted(children.get("", []), key=_code_key):
        total(code)
    for code, (i, _row) in by_code.items():
        if code not in children:
            leaf_sum += points.get(code, ZERO)
    if kept and not errors and leaf_sum != FULL_MARKS:
        errors["tree"] = f"末级指标分值合计须为100分，当前为{points_text(leaf_sum)}分"
    nodes = []
    for code in sorted(codes, key=_code_key):
        _i, row = by_code[code]
        nodes.append({"code": code, "parent": code.rpartition(".")[0] or None, "level": code.count(".") + 1,
                      "name": row.name, "max_points": points.get(code, ZERO), "notes": row.notes,
                      "leaf": code not in children})
    return nodes, errors


def _check_settings(data: TemplateData) -> dict:
    errors = {}
    name = " ".join((data.name or "").split())
    if not name:
        errors["name"] = "请填写指标体系名称"
    elif len(name) > MAX_NAME:
        errors["name"] = f"名称不能超过{MAX_NAME}个字"
    if not (data.for_midterm or data.for_final):
        errors["stages"] = "请至少选择一个适用阶段"
    for key, label in (("overdue_deduction", "每份逾期报告扣分"), ("overdue_deduction_cap", "逾期扣分上限"),
                       ("bonus_cap", "加分上限")):
        value = getattr(data, key)
        if value is None or not (ZERO <= value <= FULL_MARKS):
            errors[key] = f"{label}须在0至100分之间"
    return errors


def _template_values(data: TemplateData) -> dict:
    return {"name": " ".join(data.name.split()), "description": (data.description or "").strip()[:MAX_TEXT],
            "for_midterm": bool(data.for_midterm), "for_final": bool(data.for_final), "active": bool(data.active),
            "overdue_deduction": data.overdue_deduction, "overdue_deduction_cap": data.overdue_deduction_cap,
            "bonus_cap": data.bonus_cap}


def _save_tree(template: IndicatorTemplate, data: TemplateData) -> None:
    nodes, tree_errors = check_tree(data.rows)
    errors = {f"row-{k}" if isinstance(k, int) else k: v for k, v in tree_errors.items()}
    errors |= _check_settings(data)
    errors |= data.errors  # what the form could not parse says it best
    name = " ".join((data.name or "").split())
    if name and "name" not in errors:
        clash = db.session.scalar(select(IndicatorTemplate.id).where(IndicatorTemplate.name == name,
                                                                     IndicatorTemplate.id != (template.id or 0)))
        if clash:
            errors["name"] = "已有同名的指标体系"
    if errors:
        first = errors.get("tree") or next(iter(errors.values()))
        raise EvaluationError(f"指标体系未保存：{first}", errors=errors)
    for key, value in _template_values(data).items():
        setattr(template, key, value)
    if template.id is not None:
        db.session.flush()
        db.session.execute(delete(Indicator).where(Indicator.template_id == template.id))
        db.session.expire(template, ["indicators"])
    made: dict[str, Indicator] = {}
    for position, n in enumerate(nodes, start=1):
        ind = Indicator(code=n["code"], level=n["level"], position=position, name=n["name"],
                        max_points=n["max_points"], scoring_notes=n["notes"],
                        parent_id=made[n["parent"]].id if n["parent"] else None)
        template.indicators.append(ind)
        db.session.flush()
        made[n["code"]] = ind


def create_template(data: TemplateData, *, by) -> IndicatorTemplate:
    if not may_edit_templates(by):
        raise NotAllowed("只有民政工作人员或管理员可以维护指标体系")
    template = IndicatorTemplate(created_by_id=by.id, name="")
    db.session.add(template)
    _save_tree(template, data)
    db.session.flush()
    audit.record("indicator_template.created", template,
                 after={"name": template.name, "indicators": len(template.indicators)}, actor=by)
    return template


def update_template(template: IndicatorTemplate, data: TemplateData, *, by) -> IndicatorTemplate:
    """Replace the settings and the tree. Evaluations already assigned keep their snapshot."""
    if not may_edit_templates(by):
        raise NotAllowed("只有民政工作人员或管理员可以维护指标体系")
    before = {"name": template.name, "active": template.active, "indicators": len(template.indicators)}
    _save_tree(template, data)
    db.session.flush()
    audit.record("indicator_template.updated", template, before=before,
                 after={"name": template.name, "active": template.active, "indicators": len(template.indicators)},
                 actor=by)
    return template


def delete_template(template: IndicatorTemplate, *, by) -> None:
    if not may_edit_templates(by):
        raise NotAllowed("只有民政工作人员或管理员可以维护指标体系")
    used = db.session.scalar(select(PerformanceEvaluation.id).where(PerformanceEvaluation.template_id == template.id)
                             .limit(1))
    if used is not None:
        raise EvaluationError("该指标体系已用于绩效评价，不能删除；可改为停用", status=409)
    audit.record("indicator_template.deleted", template, before={"name": template.name}, actor=by)
    db.session.execute(delete(Indicator).where(Indicator.template_id == template.id))
    db.session.expire(template, ["indicators"])
    db.session.delete(template)
    db.session.flush()


def template_rows(template: IndicatorTemplate) -> list[IndicatorRow]:
    parents = {i.parent_id for i in template.indicators}
    return [IndicatorRow(code=i.code, name=i.name, max_points=i.max_points if i.id not in parents else None,
                         notes=i.scoring_notes or "") for i in template.indicators]


def template_tree(template: IndicatorTemplate) -> list[dict]:
    parents = {i.parent_id for i in template.indicators}
    return [{"code": i.code, "parent": i.code.rpartition(".")[0] or None, "level": i.level, "name": i.name,
             "max_points": i.max_points, "notes": i.scoring_notes or "", "leaf": i.id not in parents}
            for i in template.indicators]


def snapshot_of(template: IndicatorTemplate) -> dict:
    return {
        "template_id": template.id, "name": template.name,
        "overdue_deduction": str(template.overdue_deduction), "overdue_deduction_cap": str(template.overdue_deduction_cap),
        "bonus_cap": str(template.bonus_cap),
        "indicators": [{**n, "max_points": str(n["max_points"])} for n in template_tree(template)],
    }


def list_templates(*, q: str = "", active: str = "", page: int = 1, per_page: int = 20):
    stmt = select(IndicatorTemplate).options(selectinload(IndicatorTemplate.indicators)).order_by(
        IndicatorTemplate.active.desc(), IndicatorTemplate.name)
    q = " ".join((q or "").split())[:50]
    if q:
        stmt = stmt.where(IndicatorTemplate.name.contains(q, autoescape=True))
    if active == "1":
        stmt = stmt.where(IndicatorTemplate.active.is_(True))
    elif active == "0":
        stmt = stmt.where(IndicatorTemplate.active.is_(False))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def templates_for(stage: EvaluationStage | None = None) -> list[IndicatorTemplate]:
    stmt = select(IndicatorTemplate).where(IndicatorTemplate.active.is_(True)).order_by(IndicatorTemplate.name)
    rows = list(db.session.scalars(stmt))
    return [t for t in rows if stage is None or t.fits(stage)]


# ---------------------------------------------------------------- evaluations

def eligible_evaluators(project) -> list:
    """Active 第三方评估机构 and expert accounts, and the staff who manage the project's district."""
    from incubator.accounts.models import Role, User

    users = db.session.scalars(select(User).where(User.role.in_([Role.EVALUATOR, Role.EXPERT, Role.STAFF]))
                               .order_by(User.role, User.name)).all()
    return [u for u in users if u.is_active and (u.role != Role.STAFF or project.can_manage(u))]


def project_evaluations(project) -> list[PerformanceEvaluation]:
    return list(db.session.scalars(
        select(PerformanceEvaluation).where(PerformanceEvaluation.project_id == project.id)
        .options(selectinload(PerformanceEvaluation.scores), selectinload(PerformanceEvaluation.evaluator))
        .order_by(PerformanceEvaluation.assigned_at, PerformanceEvaluation.id)))


def _stage_taken(project, stage: EvaluationStage) -> PerformanceEvaluation | None:
    return db.session.scalar(select(PerformanceEvaluation).where(
        PerformanceEvaluation.project_id == project.id, PerformanceEvaluation.stage == stage,
        PerformanceEvaluation.status != EvaluationStatus.CANCELLED).limit(1))


def assign_evaluation(project, *, stage: EvaluationStage, template: IndicatorTemplate, evaluator,
                      due_on: date | None = None, by) -> PerformanceEvaluation:
    """Staff of the district assign one evaluator (third party, expert or staff) to a stage."""
    from incubator.projects.models import ProjectStatus

    _require_manager(project, by)
    stage = EvaluationStage(stage)
    if project.status in (ProjectStatus.CLOSED, ProjectStatus.TERMINATED):
        raise EvaluationError(f"项目{project.status.label}，不能再安排绩效评价", status=409)
    if template is None or not template.active:
        raise EvaluationError("请选择启用中的指标体系")
    if not template.fits(stage):
        raise EvaluationError(f"指标体系“{template.name}”不适用于{stage.label}")
    if evaluator is None or evaluator not in eligible_evaluators(project):
        raise EvaluationError("请选择第三方评估机构、评审专家或本辖区民政工作人员作为评价人")
    if due_on is not None and due_on < today_local():
        raise EvaluationError("评价截止日期不能早于今天")
    taken = _stage_taken(project, stage)
    if taken is not None:
        raise EvaluationError(f"该项目已有{stage.label}（{taken.status.label}），如需更换评价人请先撤销", status=409)
    if stage == EvaluationStage.MIDTERM and (project.midterm_passed_on or project.midterm_failed_on):
        raise EvaluationError("该项目已登记中期评估结果", status=409)
    ev = PerformanceEvaluation(project_id=project.id, project=project, stage=stage, template_id=template.id,
                               template_name=template.name, snapshot=snapshot_of(template), evaluator_id=evaluator.id,
                               assigned_by_id=by.id, assigned_at=utcnow(), due_on=due_on,
                               status=EvaluationStatus.ASSIGNED)
    db.session.add(ev)
    db.session.flush()
    audit.record("evaluation.assigned", ev, after={"project_id": project.id, "stage": stage, "template": template.name,
                                                   "evaluator_id": evaluator.id, "due_on": due_on}, actor=by)
    db.session.flush()
    return ev


def cancel_evaluation(ev: PerformanceEvaluation, *, by, reason: str) -> PerformanceEvaluation:
    _require_manager(ev.project, by)
    reason = " ".join((reason or "").split())[:500]
    if not reason:
        raise EvaluationError("请填写撤销理由")
    if ev.status not in SCORING_STATUSES:
        raise EvaluationError(f"{ev.status.label}的评价不能撤销", status=409)
    transition(ev, EvaluationStatus.CANCELLED, by=by, note=reason)
    return ev


def overdue_reports_count(project) -> int:
    """Overdue reports of the project, from the reports area (0 while that area is not installed)."""
    try:
        from incubator.projects.reports.services import overdue_count
    except ImportError:
        return 0
    return int(overdue_count(project))


def overdue_deduction_for(ev: PerformanceEvaluation, count: int) -> Decimal:
    snap = ev.snapshot or {}
    per = Decimal(snap.get("overdue_deduction", "0"))
    cap = Decimal(snap.get("overdue_deduction_cap", "100"))
    return min(per * count, cap, FULL_MARKS).quantize(CENT)


def compute_total(points: Decimal, *, bonus: Decimal, deduction: Decimal, overdue: Decimal) -> Decimal:
    raw = points + bonus - deduction - overdue
    return min(max(raw, ZERO), FULL_MARKS).quantize(CENT)


def current_total(ev: PerformanceEvaluation) -> Decimal:
    """The total as the saved scores stand (the frozen total once submitted)."""
    if ev.total is not None and ev.status not in SCORING_STATUSES:
        return ev.total
    return compute_total(ev.points_total, bonus=ev.bonus or ZERO, deduction=ev.deduction or ZERO,
                         overdue=ev.overdue_deduction or ZERO)


@dataclass
class ScoreInput:
    points: dict[str, Decimal | None]  # leaf code → points (None: not scored yet)
    comments: dict[str, str] = field(default_factory=dict)
    bonus: Decimal | None = None
    bonus_note: str = ""
    deduction: Decimal | None = None
    deduction_note: str = ""
    summary: str = ""
    errors: dict = field(default_factory=dict)  # parse errors from the form, by field name


def _require_evaluator(ev: PerformanceEvaluation, by) -> None:
    if not ev.is_evaluator(by):
        raise NotAllowed("只有指定的评价人可以评分")
    if ev.status not in SCORING_STATUSES:
        raise EvaluationError(f"该评价{ev.status.label}，不能再修改评分", status=409)


def save_scores(ev: PerformanceEvaluation, data: ScoreInput, *, by) -> PerformanceEvaluation:
    """The evaluator saves points (0 … the leaf's full marks), comments, bonus and deduction items."""
    _require_evaluator(ev, by)
    errors = dict(data.errors)
    leaves = {n["code"]: n for n in ev.leaves}
    unknown = set(data.points) - set(leaves)
    if unknown:
        raise EvaluationError("评分项与指标体系不符，请刷新页面后重试")
    for code, value in data.points.items():
        if value is None:
            continue
        leaf = leaves[code]
        if not value.is_finite() or value < ZERO or value > leaf["max_points"]:
            errors[f"score-{code}"] = f"“{leaf['name']}”的得分须在0至{points_text(leaf['max_points'])}分之间"
        elif value != value.quantize(CENT):
            errors[f"score-{code}"] = f"“{leaf['name']}”的得分最多保留两位小数"
    bonus_cap = Decimal((ev.snapshot or {}).get("bonus_cap", "0"))
    bonus = data.bonus if data.bonus is not None else ZERO
    deduction = data.deduction if data.deduction is not None else ZERO
    if "bonus" not in errors and not (ZERO <= bonus <= bonus_cap):
        errors["bonus"] = f"加分须在0至{points_text(bonus_cap)}分之间"
    if "deduction" not in errors and not (ZERO <= deduction <= FULL_MARKS):
        errors["deduction"] = "扣分须在0至100分之间"
    if bonus > 0 and not data.bonus_note.strip():
        errors["bonus_note"] = "有加分时请说明加分事项"
    if deduction > 0 and not data.deduction_note.strip():
        errors["deduction_note"] = "有扣分时请说明扣分事项"
    if errors:
        raise EvaluationError(f"评分未保存：{next(iter(errors.values()))}", errors=errors)
    existing = ev.score_map
    changed = 0
    for code, value in data.points.items():
        comment = (data.comments.get(code) or "").strip()[:MAX_TEXT]
        row = existing.get(code)
        if value is None:
            if row is not None:
                ev.scores.remove(row)
                changed += 1
            continue
        if row is None:
            ev.scores.append(EvaluationScore(code=code, points=value, comment=comment))
            changed += 1
        elif row.points != value or row.comment != comment:
            row.points, row.comment = value, comment
            changed += 1
    for code in set(data.comments) - set(data.points):
        if code in existing and code in leaves:
            existing[code].comment = (data.comments[code] or "").strip()[:MAX_TEXT]
    ev.bonus, ev.bonus_note = bonus, data.bonus_note.strip()[:MAX_TEXT]
    ev.deduction, ev.deduction_note = deduction, data.deduction_note.strip()[:MAX_TEXT]
    ev.summary = (data.summary or "").strip()[:MAX_TEXT]
    ev.overdue_reports = overdue_reports_count(ev.project)
    ev.overdue_deduction = overdue_deduction_for(ev, ev.overdue_reports)
    db.session.flush()
    audit.record("evaluation.scores_saved", ev, after={"scored": len(ev.scores), "of": len(leaves), "changed": changed,
                                                       "bonus": bonus, "deduction": deduction,
                                                       "total": current_total(ev)}, actor=by)
    db.session.flush()
    return ev


def missing_leaves(ev: PerformanceEvaluation) -> list[dict]:
    scored = ev.score_map
    return [n for n in ev.leaves if n["code"] not in scored]


def submit_evaluation(ev: PerformanceEvaluation, *, by) -> PerformanceEvaluation:
    """Every leaf scored: the overdue deduction, total and grade are worked out and frozen."""
    _require_evaluator(ev, by)
    missing = missing_leaves(ev)
    if missing:
        names = "、".join(n["name"] for n in missing[:3]) + ("等" if len(missing) > 3 else "")
        raise EvaluationError(f"还有{len(missing)}项指标未评分：{names}")
    ev.overdue_reports = overdue_reports_count(ev.project)
    ev.overdue_deduction = overdue_deduction_for(ev, ev.overdue_reports)
    ev.total = compute_total(ev.points_total, bonus=ev.bonus, deduction=ev.deduction, overdue=ev.overdue_deduction)
    ev.grade = grade_for(ev.total)
    ev.submitted_at = utcnow()
    transition(ev, EvaluationStatus.SUBMITTED, by=by, note=f"总分 {ev.total}，{ev.grade.label}")
    return ev


def return_evaluation(ev: PerformanceEvaluation, *, by, reason: str) -> PerformanceEvaluation:
    _require_manager(ev.project, by)
    reason = " ".join((reason or "").split())[:1000]
    if not reason:
        raise EvaluationError("请填写退回理由")
    if ev.status != EvaluationStatus.SUBMITTED:
        raise EvaluationError(f"该评价{ev.status.label}，不能退回", status=409)
    ev.return_reason = reason
    ev.returned_at = utcnow()
    transition(ev, EvaluationStatus.RETURNED, by=by, note=reason)
    return ev


def confirm_evaluation(ev: PerformanceEvaluation, *, by, report: bool = True) -> PerformanceEvaluation:
    """Staff confirm a submitted evaluation: the grade takes effect on the tranches, and the report PDF is
    made by a background job (``report=False`` skips it, e.g. in demos run without a worker)."""
    from incubator.projects import services as project_services
    from incubator.projects.models import ProjectStatus, TrancheCondition

    _require_manager(ev.project, by)
    if ev.status != EvaluationStatus.SUBMITTED:
        raise EvaluationError(f"该评价{ev.status.label}，不能确认", status=409)
    project = ev.project
    ev.confirmed_at = utcnow()
    ev.confirmed_by_id = by.id
    transition(ev, EvaluationStatus.CONFIRMED, by=by, note=f"{ev.stage.label}：{ev.total}分，{ev.grade.label}")
    on = to_local(ev.confirmed_at).date()
    if project.status not in (ProjectStatus.CLOSED, ProjectStatus.TERMINATED):
        try:
            if ev.stage == EvaluationStage.MIDTERM and passes(ev.grade):
                if not project.condition_met(TrancheCondition.ON_MIDTERM_PASS):
                    project_services.mark_condition_met(project, TrancheCondition.ON_MIDTERM_PASS, by=by, on=on)
            elif ev.stage == EvaluationStage.MIDTERM:
                project_services.record_midterm_failed(project, by=by, on=on)
            elif passes(ev.grade) and not project.condition_met(TrancheCondition.ON_FINAL_ACCEPTANCE):
                project_services.mark_condition_met(project, TrancheCondition.ON_FINAL_ACCEPTANCE, by=by, on=on)
        except project_services.ProjectError as exc:
            raise EvaluationError(f"评价结果不能生效：{exc}", status=409) from exc
    audit.record("evaluation.confirmed", ev, after={"stage": ev.stage, "total": ev.total, "grade": ev.grade,
                                                    "project_id": project.id}, actor=by)
    db.session.flush()
    if report:
        request_report(ev, by=by)
    return ev


def request_report(ev: PerformanceEvaluation, *, by):
    """Queue the 绩效评价报告 PDF (incubator.projects.evaluations.jobs.render_evaluation_report)."""
    from incubator.core.jobs import start_job
    from incubator.projects.evaluations.jobs import render_evaluation_report

    if ev.status != EvaluationStatus.CONFIRMED:
        raise EvaluationError("评价确认后才能生成评价报告", status=409)
    return start_job(render_evaluation_report, ev.id, title=f"绩效评价报告：{ev.project.number} {ev.stage.label}",
                     user=by, kind="evaluation_report_pdf")


def latest_grade(project, stage: EvaluationStage) -> EvaluationGrade | None:
    """The grade of the project's last confirmed evaluation of ``stage`` (None: none yet)."""
    return db.session.scalar(
        select(PerformanceEvaluation.grade).where(
            PerformanceEvaluation.project_id == project.id, PerformanceEvaluation.stage == EvaluationStage(stage),
            PerformanceEvaluation.status == EvaluationStatus.CONFIRMED)
        .order_by(PerformanceEvaluation.confirmed_at.desc(), PerformanceEvaluation.id.desc()).limit(1))


def final_grades_for_org(org) -> list[tuple]:
    """[(project, evaluation)] of the organisation's confirmed final evaluations, newest first."""
    from incubator.projects.models import Project

    rows = db.session.execute(
        select(Project, PerformanceEvaluation).join(PerformanceEvaluation, PerformanceEvaluation.project_id == Project.id)
        .where(Project.org_id == org.id, PerformanceEvaluation.stage == EvaluationStage.FINAL,
               PerformanceEvaluation.status == EvaluationStatus.CONFIRMED)
        .order_by(PerformanceEvaluation.confirmed_at.desc())).all()
    return [(p, e) for p, e in rows]


def evaluations_of(user, *, status: str = "") -> list[PerformanceEvaluation]:
    """An evaluator's own evaluations (open first)."""
    from incubator.projects.models import Project

    stmt = (select(PerformanceEvaluation).where(PerformanceEvaluation.evaluator_id == user.id)
            .options(selectinload(PerformanceEvaluation.project).selectinload(Project.org))
            .order_by(PerformanceEvaluation.assigned_at.desc(), PerformanceEvaluation.id.desc()))
    if status == "open":
        stmt = stmt.where(PerformanceEvaluation.status.in_(SCORING_STATUSES))
    elif status in {s.value for s in EvaluationStatus}:
        stmt = stmt.where(PerformanceEvaluation.status == EvaluationStatus(status))
    return list(db.session.scalars(stmt))


def assigned_projects(user) -> set[int]:
    return set(db.session.scalars(select(PerformanceEvaluation.project_id).where(
        PerformanceEvaluation.evaluator_id == user.id, PerformanceEvaluation.status != EvaluationStatus.CANCELLED)))


# ---------------------------------------------------------------- the evaluation report

def report_context(ev: PerformanceEvaluation) -> dict:
    """Plain values for templates/pdf/evaluation_report.html; the same data gives the same text."""
    from flask import current_app

    from incubator.projects.evaluations.models import band_text
    from incubator.web import format_date

    project = ev.project
    scores = ev.score_map
    rows = []
    for n in ev.nodes:
        s = scores.get(n["code"])
        if n["leaf"]:
            points = s.points if s else None
        else:
            prefix = n["code"] + "."
            points = sum((x.points for c, x in scores.items() if c.startswith(prefix)), ZERO)
        rows.append({"code": n["code"], "level": n["level"], "name": n["name"], "max_points": f"{points_text(n['max_points'])}",
                     "points": "" if points is None else f"{points:.2f}", "comment": s.comment if s else "",
                     "notes": n.get("notes") or "", "leaf": n["leaf"]})
    evaluator = ev.evaluator
    return {
        "title": f"项目{ev.stage.label}绩效评价报告",
        "doc_number": f"{project.number}-{'ZQ' if ev.stage == EvaluationStage.MIDTERM else 'JX'}",
        "project": {"number": project.number, "title": project.title, "org": project.org.name,
                    "kind": project.kind.label, "amount": project.amount,
                    "term": f"{format_date(project.term_start)}至{format_date(project.term_end)}",
                    "department": project.purchasing_department or ""},
        "stage": ev.stage.label,
        "indicator_system": ev.template_name,
        "rows": rows,
        "points_total": f"{ev.points_total:.2f}",
        "bonus": f"{ev.bonus:.2f}", "bonus_note": ev.bonus_note or "",
        "deduction": f"{ev.deduction:.2f}", "deduction_note": ev.deduction_note or "",
        "overdue_reports": ev.overdue_reports, "overdue_deduction": f"{ev.overdue_deduction:.2f}",
        "total": f"{ev.total:.2f}" if ev.total is not None else "",
        "grade": ev.grade.label if ev.grade else "",
        "bands": band_text(),
        "summary": ev.summary or "",
        "evaluator": {"name": evaluator.name if evaluator else "（已删除的用户）",
                      "role": evaluator.role.label if evaluator else ""},
        "confirmed_by": ev.confirmed_by.name if ev.confirmed_by else "",
        "issuer_name": project.purchasing_department or f"{current_app.config['CITY_NAME']}民政局",
        "assigned_on": to_local(ev.assigned_at).date(),
        "submitted_on": to_local(ev.submitted_at).date() if ev.submitted_at else None,
        "confirmed_on": to_local(ev.confirmed_at).date() if ev.confirmed_at else None,
        "generated_at": ev.confirmed_at,
        "document_title": f"项目{ev.stage.label}绩效评价报告",
    }


def attach_report(ev: PerformanceEvaluation, data: bytes, *, by=None):
    from incubator.core.files import save_generated

    stored = save_generated(data, filename=f"绩效评价报告-{ev.project.number}-{ev.stage.label}.pdf",
                            content_type="application/pdf", by=by)
    ev.report_file_id = stored.id
    ev.report_sha256 = hashlib.sha256(data).hexdigest()
    db.session.flush()
    audit.record("evaluation.report_generated", ev, after={"file_id": stored.id, "sha256": ev.report_sha256}, actor=by)
    db.session.flush()
    return stored


# ---------------------------------------------------------------- the staff desk

def midpoint(project) -> date:
    return project.term_start + timedelta(days=(project.term_end - project.term_start).days // 2)


# ---------------------------------------------------------------- batch reads (public directory, org record)

def final_grades(project_ids) -> dict[int, PerformanceEvaluation]:
    """{project_id: its latest confirmed final evaluation} for many projects, in one query."""
    ids = list(project_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        select(PerformanceEvaluation)
        .where(PerformanceEvaluation.project_id.in_(ids), PerformanceEvaluation.stage == EvaluationStage.FINAL,
               PerformanceEvaluation.status == EvaluationStatus.CONFIRMED)
        .order_by(PerformanceEvaluation.confirmed_at.desc(), PerformanceEvaluation.id.desc()))
    out: dict[int, PerformanceEvaluation] = {}
    for ev in rows:
        out.setdefault(ev.project_id, ev)
    return out


def latest_final_by_org(org_ids) -> dict[int, tuple["Project", PerformanceEvaluation]]:
    """{org_id: (project, evaluation)} of each organisation's newest confirmed final evaluation, in one
    query (the directory row's 绩效评价; ``final_grades_for_org`` of the evaluations area for one org)."""
    from incubator.projects.models import Project

    ids = list(org_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Project, PerformanceEvaluation)
        .join(PerformanceEvaluation, PerformanceEvaluation.project_id == Project.id)
        .where(Project.org_id.in_(ids), PerformanceEvaluation.stage == EvaluationStage.FINAL,
               PerformanceEvaluation.status == EvaluationStatus.CONFIRMED)
        .order_by(PerformanceEvaluation.confirmed_at.desc(), PerformanceEvaluation.id.desc()))
    out: dict[int, tuple["Project", PerformanceEvaluation]] = {}
    for project, ev in rows:
        out.setdefault(project.org_id, (project, ev))
    return out


def project_stages(project) -> dict[str, PerformanceEvaluation | None]:
    """The project's confirmed mid-term and final evaluations (the latest of each), for its public page."""
    rows = db.session.scalars(
        select(PerformanceEvaluation)
        .where(PerformanceEvaluation.project_id == project.id, PerformanceEvaluation.status == EvaluationStatus.CONFIRMED)
        .order_by(PerformanceEvaluation.confirmed_at.desc(), PerformanceEvaluation.id.desc()))
    out: dict[str, PerformanceEvaluation | None] = {"midterm": None, "final": None}
    for ev in rows:
        if out.get(ev.stage.value) is None:
            out[ev.stage.value] = ev
    return out


def desk_items(user) -> list:
    """Evaluations to assign (past the mid-point without a mid-term; past the term end without a final),
    evaluations submitted and waiting for confirmation (staff of the district); for an evaluator, the
    evaluations they must score."""
    from flask import url_for

    from incubator.accounts.models import Role
    from incubator.orgs.models import Organization
    from incubator.projects.desk import DeskItem
    from incubator.projects.models import Project, ProjectStatus

    if not getattr(user, "is_authenticated", False):
        return []
    today = today_local()
    items: list = []
    if user.role in (Role.EVALUATOR, Role.EXPERT, Role.STAFF):
        for ev in evaluations_of(user, status="open"):
            p = ev.project
            overdue = ev.due_on is not None and ev.due_on < today
            note = ("已退回，请修改后重新提交" if ev.status == EvaluationStatus.RETURNED
                    else (f"逾期{(today - ev.due_on).days}天" if overdue else
                          (f"还剩{(ev.due_on - today).days}天" if ev.due_on else "")))
            items.append(DeskItem("绩效评价", f"{p.number} {p.title}：{ev.stage.label}待评分",
                                  url_for("evaluations.score", project_id=p.id, evaluation_id=ev.id),
                                  due=ev.due_on, overdue=overdue, note=note))
    if user.role != Role.STAFF:
        return items
    stmt = (select(Project).join(Organization, Organization.id == Project.org_id)
            .where(Project.status.in_([ProjectStatus.LAUNCHED, ProjectStatus.CONTRACTED, ProjectStatus.IN_PROGRESS]))
            .options(selectinload(Project.org)))
    if user.district_id is not None:
        stmt = stmt.where(Organization.district_id == user.district_id)
    projects = list(db.session.scalars(stmt))
    if not projects:
        return items
    evs = db.session.scalars(select(PerformanceEvaluation).where(
        PerformanceEvaluation.project_id.in_([p.id for p in projects]),
        PerformanceEvaluation.status != EvaluationStatus.CANCELLED)).all()
    by_project: dict[int, list[PerformanceEvaluation]] = {}
    for ev in evs:
        by_project.setdefault(ev.project_id, []).append(ev)
    for p in projects:
        stages = {ev.stage for ev in by_project.get(p.id, [])}
        url = url_for("evaluations.project_evaluations", project_id=p.id)
        checks = ((EvaluationStage.MIDTERM, midpoint(p), p.midterm_passed_on is None and p.midterm_failed_on is None),
                  (EvaluationStage.FINAL, p.term_end, True))
        for stage, due, needed in checks:
            if needed and stage not in stages and today >= due - timedelta(days=DESK_LEAD_DAYS):
                late = (today - due).days
                items.append(DeskItem("绩效评价", f"{p.number} {p.title}：待安排{stage.label}", url, due=due,
                                      overdue=late > DESK_OVERDUE_DAYS, note=(f"{'中期节点' if stage == EvaluationStage.MIDTERM else '服务期满'}已过{late}天"
                                            if late > 0 else "")))
        for ev in by_project.get(p.id, []):
            if ev.status == EvaluationStatus.SUBMITTED:
                items.append(DeskItem("绩效评价", f"{p.number} {p.title}：{ev.stage.label}已提交，待确认",
                                      url_for("evaluations.detail", project_id=p.id, evaluation_id=ev.id),
                                      due=to_local(ev.submitted_at).date() if ev.submitted_at else None,
                                      note=f"{ev.total}分，{ev.grade.label}" if ev.grade else ""))
    return items


# ---------------------------------------------------------------- suppliers' annual assessment (考核)

@dataclass
class AssessmentRow:
    org: object
    projects: list[dict]
    result: EvaluationGrade | None
    reason: str


def _worst(grades) -> EvaluationGrade | None:
    grades = [g for g in grades if g is not None]
    return max(grades, key=GRADE_ORDER.index) if grades else None


def _failed_terminations(project_ids: list[int], t0: datetime, t1: datetime) -> set[int]:
    """Projects terminated between t0 and t1 for a failed evaluation or a breach (the exits area)."""
    if not project_ids:
        return set()
    try:
        from incubator.projects.exits.models import ExitReason, Termination
    except ImportError:  # the exits area is not installed
        return set()
    return set(db.session.scalars(select(Termination.project_id).where(
        Termination.project_id.in_(project_ids), Termination.decided_at >= t0, Termination.decided_at < t1,
        Termination.reason_kind.in_([ExitReason.FAILED_EVALUATION, ExitReason.BREACH]))))


def annual_assessment(user, year: int, *, q: str = "") -> list[AssessmentRow]:
    """One row per supplier in the user's scope (district staff: their district) for ``year``; see the
    module docstring for the rule."""
    from incubator.orgs.models import Organization
    from incubator.projects.models import Project, ProjectStatus

    start, end = date(year, 1, 1), date(year, 12, 31)
    t0, t1 = from_local(datetime(year, 1, 1)), from_local(datetime(year + 1, 1, 1))
    confirmed_in_year = select(PerformanceEvaluation.project_id).where(
        PerformanceEvaluation.status == EvaluationStatus.CONFIRMED,
        PerformanceEvaluation.confirmed_at >= t0, PerformanceEvaluation.confirmed_at < t1)
    stmt = (select(Project).join(Organization, Organization.id == Project.org_id)
            .where(or_(and_(Project.term_start <= end, Project.term_end >= start), Project.id.in_(confirmed_in_year)))
            .options(selectinload(Project.org)).order_by(Organization.name, Project.number))
    if getattr(user, "district_id", None) is not None:
        stmt = stmt.where(Organization.district_id == user.district_id)
    q = " ".join((q or "").split())[:50]
    if q:
        stmt = stmt.where(or_(Organization.name.contains(q, autoescape=True), Project.title.contains(q, autoescape=True),
                              Project.number.contains(q, autoescape=True)))
    projects = list(db.session.scalars(stmt))
    evs = db.session.scalars(select(PerformanceEvaluation).where(
        PerformanceEvaluation.project_id.in_([p.id for p in projects]),
        PerformanceEvaluation.status == EvaluationStatus.CONFIRMED,
        PerformanceEvaluation.confirmed_at >= t0, PerformanceEvaluation.confirmed_at < t1)
        .order_by(PerformanceEvaluation.confirmed_at)).all() if projects else []
    failed_exits = _failed_terminations([p.id for p in projects], t0, t1)
    latest: dict[tuple[int, EvaluationStage], PerformanceEvaluation] = {}
    for ev in evs:
        latest[(ev.project_id, ev.stage)] = ev
    rows: dict[int, AssessmentRow] = {}
    for p in projects:
        mid, fin = latest.get((p.id, EvaluationStage.MIDTERM)), latest.get((p.id, EvaluationStage.FINAL))
        failed_term = p.id in failed_exits or (p.status == ProjectStatus.TERMINATED and p.midterm_failed_on is not None
                                               and p.midterm_failed_on.year == year)
        row = rows.setdefault(p.org_id, AssessmentRow(org=p.org, projects=[], result=None, reason=""))
        row.projects.append({"project": p, "midterm": mid, "final": fin, "failed_terminated": failed_term})
    for row in rows.values():
        fails = [d for d in row.projects if d["failed_terminated"]
                 or any(e is not None and e.grade == EvaluationGrade.FAIL for e in (d["midterm"], d["final"]))]
        finals = [d["final"].grade for d in row.projects if d["final"] is not None]
        if fails:
            row.result = EvaluationGrade.FAIL
            first = fails[0]
            row.reason = (f"{first['project'].number}因评价不合格或违约被终止" if first["failed_terminated"]
                          else f"{first['project'].number}评价不合格")
        elif finals:
            row.result = _worst(finals)
            row.reason = f"{len(finals)}个项目结项评价，取最低等次"
        else:
            row.reason = "本年度无结项评价"
    return list(rows.values())


ASSESSMENT_HEADERS = ["承接主体", "统一社会信用代码", "项目编号", "项目名称", "项目状态", "中期评估", "结项评估得分",
                      "结项评估等次", "年度考核结果", "说明"]


def assessment_export_rows(rows: list[AssessmentRow]):
    for row in rows:
        for d in row.projects:
            p, mid, fin = d["project"], d["midterm"], d["final"]
            yield [row.org.name, getattr(row.org, "identifier", "") or "", p.number, p.title, p.status.label,
                   mid.grade.label if mid else "", fin.total if fin else None, fin.grade.label if fin else "",
                   row.result.label if row.result else "暂无评价", row.reason]


__all__ = [
    "EvaluationError", "NotAllowed", "IndicatorRow", "TemplateData", "ScoreInput", "check_tree", "create_template",
    "update_template", "delete_template", "assign_evaluation", "cancel_evaluation", "save_scores",
    "submit_evaluation", "return_evaluation", "confirm_evaluation", "request_report", "latest_grade",
    "final_grades_for_org", "final_grades", "latest_final_by_org", "project_stages", "desk_items", "annual_assessment", "overdue_reports_count",
]
