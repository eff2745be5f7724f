"""Forms of 绩效评价. Only the declared fields are read (no mass assignment); the per-indicator fields of
the scoring form and the rows of the template editor are parsed here too, with Chinese messages."""
from __future__ import annotations

import re
from decimal import Decimal

from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from incubator.core.forms import InputRejected, _DecimalTextField, parse_decimal, select_choices
from incubator.orgs.forms import ChineseDateField, ChoiceField, NoControlCharsForm
from incubator.projects.evaluations.models import EvaluationStage
from incubator.projects.evaluations.services import IndicatorRow, ScoreInput, TemplateData

MAX_ROWS = 120  # rows of the template editor: a tree of 三级 indicators rarely has more than 40
BLANK_ROWS = 8  # empty rows offered below the tree for new indicators
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class PointsField(_DecimalTextField):
    """Points 0–100 with at most two decimals: ``data`` is a Decimal (None when blank)."""

    unit = "分"

    def __init__(self, label=None, validators=None, *, min_value=Decimal("0"), max_value=Decimal("100"), **kw):
        kw.setdefault("render_kw", {})
        kw["render_kw"].setdefault("inputmode", "decimal")
        kw["render_kw"].setdefault("autocomplete", "off")
        super().__init__(label, validators, min_value=min_value, max_value=max_value, **kw)


def _text(raw: str | None, limit: int) -> str:
    return _CONTROL.sub("", (raw or ""))[:limit]


def parse_points(raw: str | None, *, what: str, max_value: Decimal = Decimal("100")) -> Decimal | None:
    return parse_decimal(raw, places=2, min_value=Decimal("0"), max_value=max_value, what=what, unit="分",
                         allow_grouping=False, max_integer_digits=3)


class AssignForm(NoControlCharsForm):
    stage = ChoiceField("评价阶段", choices=select_choices(EvaluationStage.choices()))
    template_id = ChoiceField("指标体系", coerce=int, validate_choice=True)
    evaluator_id = ChoiceField("评价人", coerce=int, validate_choice=True)
    due_on = ChineseDateField("评分截止日期", validators=[Optional()])


class ReasonForm(NoControlCharsForm):
    reason = TextAreaField("理由", validators=[InputRequired(message="请填写理由"), Length(max=1000)])


class EmptyForm(NoControlCharsForm):
    """CSRF only (confirm, regenerate, delete)."""


class ScoreForm(NoControlCharsForm):
    bonus = PointsField("加分", validators=[Optional()])
    bonus_note = TextAreaField("加分事项", validators=[Optional(), Length(max=2000)])
    deduction = PointsField("扣分", validators=[Optional()])
    deduction_note = TextAreaField("扣分事项", validators=[Optional(), Length(max=2000)])
    summary = TextAreaField("评价意见", validators=[Optional(), Length(max=5000)])


def score_input(form: ScoreForm, formdata, leaves: list[dict]) -> tuple[ScoreInput, dict]:
    """The ScoreInput for services.save_scores, and what was typed (to show it again on an error)."""
    typed: dict[str, str] = {}
    errors: dict[str, str] = {}
    points: dict[str, Decimal | None] = {}
    comments: dict[str, str] = {}
    for leaf in leaves:
        code = leaf["code"]
        raw = _text(formdata.get(f"score-{code}"), 20)
        typed[f"score-{code}"] = raw
        comments[code] = _text(formdata.get(f"comment-{code}"), 2000).strip()
        typed[f"comment-{code}"] = comments[code]
        try:
            points[code] = parse_points(raw, what=f"“{leaf['name']}”的得分", max_value=leaf["max_points"])
        except InputRejected as exc:
            errors[f"score-{code}"] = str(exc)
            points[code] = None
    for name in ("bonus", "deduction", "bonus_note", "deduction_note", "summary"):
        f = getattr(form, name)
        if f.errors:
            errors[name] = f.errors[0]
    data = ScoreInput(points=points, comments=comments, bonus=form.bonus.data, bonus_note=form.bonus_note.data or "",
                      deduction=form.deduction.data, deduction_note=form.deduction_note.data or "",
                      summary=form.summary.data or "", errors=errors)
    return data, typed


class TemplateForm(NoControlCharsForm):
    name = StringField("名称", validators=[InputRequired(message="请填写指标体系名称"), Length(max=100)])
    description = TextAreaField("说明", validators=[Optional(), Length(max=2000)])
    for_midterm = BooleanField("适用于中期评估")
    for_final = BooleanField("适用于结项评估")
    active = BooleanField("启用")
    overdue_deduction = PointsField("每份逾期报告扣分", validators=[InputRequired(message="请填写每份逾期报告扣分")])
    overdue_deduction_cap = PointsField("逾期扣分上限", validators=[InputRequired(message="请填写逾期扣分上限")])
    bonus_cap = PointsField("加分上限", validators=[InputRequired(message="请填写加分上限")])


def template_rows(formdata) -> tuple[list[IndicatorRow], dict, list[dict]]:
    """The editor's rows (row-<n>-code/name/points/notes): parsed rows, point errors by row, typed rows."""
    rows: list[IndicatorRow] = []
    errors: dict = {}
    typed: list[dict] = []
    for n in range(MAX_ROWS):
        keys = [f"row-{n}-{k}" for k in ("code", "name", "points", "notes")]
        if not any(k in formdata for k in keys):
            continue
        code, name, raw, notes = (_text(formdata.get(k), lim) for k, lim in zip(keys, (20, 200, 20, 2000)))
        typed.append({"code": code, "name": name, "points": raw, "notes": notes})
        try:
            points = parse_points(raw, what="分值")
        except InputRejected as exc:
            errors[len(rows)] = str(exc)
            points = None
        rows.append(IndicatorRow(code=code, name=name, max_points=points, notes=notes))
    return rows, errors, typed


def template_data(form: TemplateForm, rows: list[IndicatorRow], row_errors: dict) -> TemplateData:
    errors = {f"row-{k}": v for k, v in row_errors.items()}
    for name in ("name", "description", "overdue_deduction", "overdue_deduction_cap", "bonus_cap"):
        f = getattr(form, name)
        if f.errors:
            errors[name] = f.errors[0]
    return TemplateData(
        name=form.name.data or "", rows=rows, description=form.description.data or "",
        for_midterm=bool(form.for_midterm.data), for_final=bool(form.for_final.data), active=bool(form.active.data),
        overdue_deduction=form.overdue_deduction.data, overdue_deduction_cap=form.overdue_deduction_cap.data,
        bonus_cap=form.bonus_cap.data, errors=errors)
