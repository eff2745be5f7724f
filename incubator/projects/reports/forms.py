"""Forms of the reports area: the schedule (frequency), a report submission, a return with its reason."""
from __future__ import annotations

from flask_wtf.file import MultipleFileField
from wtforms import TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from incubator.core.forms import StrictIntegerField, select_choices
from incubator.orgs.forms import ChoiceField, NoControlCharsForm
from incubator.projects.reports.models import ReportFrequency
from incubator.projects.reports.services import MAX_FIGURE, MAX_REASON, MAX_TEXT


class ScheduleForm(NoControlCharsForm):
    frequency = ChoiceField("进度报告频率", choices=select_choices(ReportFrequency.choices()),
                            default=ReportFrequency.MONTHLY.value)


class SubmitForm(NoControlCharsForm):
    text = TextAreaField("报告正文", validators=[DataRequired(message="请填写报告正文"),
                                             Length(max=MAX_TEXT, message=f"不能超过{MAX_TEXT}字")],
                         description="本期完成的服务内容、进度、遇到的问题及下一步计划")
    people_served = StrictIntegerField("服务人次", [InputRequired(message="请填写服务人次")], min_value=0,
                                       max_value=MAX_FIGURE)
    activities_held = StrictIntegerField("开展活动次数", [InputRequired(message="请填写开展活动次数")], min_value=0,
                                         max_value=MAX_FIGURE)
    photos = MultipleFileField("活动照片", description="JPG 或 PNG，可多选")
    sign_in_sheets = MultipleFileField("签到表", description="PDF、JPG、PNG、Word 或 Excel，可多选")
    others = MultipleFileField("其他材料", description="可选")


class ReturnForm(NoControlCharsForm):
    reason = TextAreaField("退回理由", validators=[DataRequired(message="请填写退回理由"),
                                               Length(max=MAX_REASON, message=f"不能超过{MAX_REASON}字")])


class AcceptForm(NoControlCharsForm):
    pass
