"""Forms of the review pages. Only declared fields are read: posted extras (status, expert_id, total …)
are ignored. Scores and rubric rows are parsed from the posted text with Chinese messages and the
typed text kept (SECURITY.md bad inputs #5: -1, above the maximum, 5.5, blank)."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from incubator.core.forms import (
    BeijingDateTimeField,
    ChineseForm,
    InputRejected,
    PercentField,
    StrictIntegerField,
    parse_decimal,
    select_choices,
)
from incubator.db import utcnow
from incubator.review.models import Aggregation, Promotion, RoundKind
from incubator.review.services import MAX_COMMENTS_LENGTH, MAX_REASON_LENGTH, CriterionInput, RoundSettings
from incubator.screening.forms import LocalDateField

MAX_CRITERIA = 20


def _no_nul(form, f):
    if f.data and "\x00" in f.data:
        raise ValidationError("包含非法字符")


def _required_text(message):
    def check(form, f):
        if not (f.data or "").strip():
            raise ValidationError(message)
    return check


class ScoreLineField(PercentField):
    unit = ""


class RoundForm(ChineseForm):
    call_id = SelectField("所属申报通知", validators=[InputRequired("请选择申报通知")])
    name = StringField("轮次名称", validators=[InputRequired("请填写轮次名称"), _required_text("请填写轮次名称"),
                                             Length(max=100, message="名称不能超过%(max)d个字"), _no_nul],
                       description="例如：书面评审、复审路演。")
    kind = SelectField("评审方式", choices=select_choices(RoundKind.choices()))
    reviewers_per_application = StrictIntegerField("每份申请的评审专家人数", [InputRequired("请填写专家人数")],
                                                   min_value=1, max_value=15,
                                                   description="评审专家应为不少于 3 人的单数（政府采购评审惯例）。")
    max_load = StrictIntegerField("每位专家最多评审份数", [InputRequired("请填写评审上限")], min_value=1, max_value=500,
                                  description="专家本人在专家库中的上限更低时，以较低者为准。")
    blind = BooleanField("匿名评审（专家看不到申报单位、人员姓名和附件文件名）", default=True)
    review_date = LocalDateField("评审日期", validators=[Optional()],
                                 description="路演日期或书面评审开始日；专家须在评审前 2 个工作日内抽取。不填则以评分截止日计。")
    deadline = BeijingDateTimeField("评分截止时间", validators=[InputRequired("请填写评分截止时间")])
    aggregation = SelectField("计分规则", choices=select_choices(Aggregation.choices()))
    trim_from = StrictIntegerField("去掉最高最低分的起始人数", [InputRequired("请填写人数")], min_value=3, max_value=99,
                                   default=5, description="评分专家达到此人数时去掉一个最高分和一个最低分。")
    promotion = SelectField("晋级规则", choices=select_choices(Promotion.choices()))
    promotion_top_n = StrictIntegerField("晋级名额（前 N 名）", [Optional()], min_value=1, max_value=10000)
    promotion_min_score = ScoreLineField("晋级分数线（X 分）", [Optional()], min_value=0, max_value=100)
    exclude_earlier_reviewers = BooleanField("前一轮已评审过该申请的专家本轮回避")

    def __init__(self, *args, call_choices: list[tuple[str, str]], creating: bool, **kw):
        super().__init__(*args, **kw)
        self.call_id.choices = select_choices(call_choices)
        self.creating = creating

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.creating and self.deadline.data is not None and self.deadline.data <= utcnow():
            self.deadline.errors.append("评分截止时间应晚于现在")
            ok = False
        if self.promotion.data == Promotion.TOP_N.value and self.promotion_top_n.data is None and not self.promotion_top_n.errors:
            self.promotion_top_n.errors.append("请填写晋级名额")
            ok = False
        if self.promotion.data == Promotion.MIN_SCORE.value and self.promotion_min_score.data is None and not self.promotion_min_score.errors:
            self.promotion_min_score.errors.append("请填写晋级分数线")
            ok = False
        return ok

    def settings(self) -> RoundSettings:
        return RoundSettings(
            name=self.name.data.strip(), kind=RoundKind(self.kind.data),
            reviewers_per_application=self.reviewers_per_application.data, max_load=self.max_load.data,
            blind=bool(self.blind.data), review_date=self.review_date.data, deadline=self.deadline.data,
            aggregation=Aggregation(self.aggregation.data), trim_from=self.trim_from.data,
            promotion=Promotion(self.promotion.data),
            promotion_top_n=self.promotion_top_n.data if self.promotion.data == Promotion.TOP_N.value else None,
            promotion_min_score=self.promotion_min_score.data if self.promotion.data == Promotion.MIN_SCORE.value else None,
            exclude_earlier_reviewers=bool(self.exclude_earlier_reviewers.data),
        )


def round_form_data(r) -> dict:
    return dict(call_id=str(r.call_id), name=r.name, kind=r.kind.value, reviewers_per_application=r.reviewers_per_application,
                max_load=r.max_load, blind=r.blind, review_date=r.review_date, deadline=r.deadline,
                aggregation=r.aggregation.value, trim_from=r.trim_from, promotion=r.promotion.value,
                promotion_top_n=r.promotion_top_n, promotion_min_score=r.promotion_min_score,
                exclude_earlier_reviewers=r.exclude_earlier_reviewers)


class ConfirmForm(ChineseForm):
    """A bare POST with its CSRF token (buttons)."""


class ReasonForm(ChineseForm):
    reason = TextAreaField("原因", validators=[InputRequired("请填写原因"), _required_text("请填写原因"),
                                             Length(max=MAX_REASON_LENGTH, message="原因不能超过%(max)d个字"), _no_nul])


class DeclineForm(ChineseForm):
    reason = TextAreaField("回避原因", validators=[InputRequired("请说明回避的原因"), _required_text("请说明回避的原因"),
                                               Length(max=MAX_REASON_LENGTH, message="原因不能超过%(max)d个字"), _no_nul],
                           description="例如：近三年曾在该机构任职、担任顾问，或与其法定代表人有亲属关系。")


class ManualAssignForm(ChineseForm):
    application_id = SelectField("申请", validators=[InputRequired("请选择申请")])
    expert_id = SelectField("专家", validators=[InputRequired("请选择专家")])

    def __init__(self, *args, applications, experts, **kw):
        super().__init__(*args, **kw)
        self.application_id.choices = select_choices([("", "请选择…")] + applications)
        self.expert_id.choices = select_choices([("", "请选择…")] + experts)


# --------------------------------------------------------------------------- rubric rows


@dataclass
class CriteriaPost:
    rows: list[dict] = field(default_factory=list)  # what was typed, for re-rendering
    errors: list[str] = field(default_factory=list)
    parsed: list[CriterionInput] = field(default_factory=list)


def parse_criteria(formdata) -> CriteriaPost:
    """Rows name-i / description-i / max_points-i / weight-i (blank rows skipped; weight defaults to max points)."""
    out = CriteriaPost()
    for i in range(MAX_CRITERIA):
        row = {k: (formdata.get(f"{k}-{i}") or "").replace("\x00", "") for k in ("name", "description", "max_points", "weight")}
        if not any(v.strip() for v in row.values()):
            continue
        out.rows.append(row)
        n = len(out.rows)
        name = row["name"].strip()
        if not name:
            out.errors.append(f"第 {n} 项：请填写评分项名称")
        elif len(name) > 100:
            out.errors.append(f"第 {n} 项：名称不能超过100个字")
        if len(row["description"]) > 1000:
            out.errors.append(f"第 {n} 项：说明不能超过1000个字")
        try:
            mp = parse_decimal(row["max_points"], places=0, min_value=Decimal(1), max_value=Decimal(100),
                               what=f"第 {n} 项满分", allow_grouping=False, max_integer_digits=4)
            if mp is None:
                raise InputRejected(f"第 {n} 项：请填写满分")
            weight = parse_decimal(row["weight"], places=2, min_value=Decimal("0.01"), max_value=Decimal(100),
                                   what=f"第 {n} 项权重", allow_grouping=False, max_integer_digits=4)
        except InputRejected as exc:
            out.errors.append(str(exc))
            continue
        if name:
            out.parsed.append(CriterionInput(name=name, description=row["description"].strip(), max_points=int(mp),
                                             weight=weight if weight is not None else Decimal(int(mp))))
    if not out.rows:
        out.errors.append("请至少填写一个评分项")
    return out


def criteria_rows(round_) -> list[dict]:
    return [{"name": c.name, "description": c.description, "max_points": str(c.max_points),
             "weight": f"{Decimal(c.weight).normalize():f}"} for c in round_.criteria]


# --------------------------------------------------------------------------- scores


@dataclass
class ScorePost:
    action: str  # "save" | "submit"
    points: dict[int, int | None]
    raw: dict[int, str]
    comments: str
    errors: dict[int, str] = field(default_factory=dict)
    comment_error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and not self.comment_error


def parse_score(formdata, criteria) -> ScorePost:
    """points-<criterion id> as integers 0..max (blank allowed in a draft, not on submit)."""
    action = "submit" if formdata.get("action") == "submit" else "save"
    post = ScorePost(action=action, points={}, raw={}, comments=(formdata.get("comments") or "").replace("\x00", ""))
    for c in criteria:
        text = (formdata.get(f"points-{c.id}") or "")[:50]
        post.raw[c.id] = text
        try:
            value = parse_decimal(text, places=0, min_value=Decimal(0), max_value=Decimal(c.max_points),
                                  what=f"“{c.name}”", allow_grouping=False, max_integer_digits=9)
        except InputRejected as exc:
            msg = str(exc)
            if "必须是整数" not in msg and "小数" in msg:
                msg = f"“{c.name}”必须是整数"
            post.errors[c.id] = msg
            post.points[c.id] = None
            continue
        post.points[c.id] = None if value is None else int(value)
        if value is None and action == "submit":
            post.errors[c.id] = f"请为“{c.name}”评分（0–{c.max_points} 的整数）"
    if len(post.comments) > MAX_COMMENTS_LENGTH:
        post.comment_error = f"评审意见不能超过{MAX_COMMENTS_LENGTH}个字"
    return post
