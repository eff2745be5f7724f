"""Forms of the system pages."""
from __future__ import annotations

from wtforms import DateField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from incubator.core.forms import ChineseForm
from incubator.core.workdays import MAX_YEAR, MIN_YEAR


class WorkdayOverrideForm(ChineseForm):
    day = DateField("日期", validators=[InputRequired(message="请选择日期")])
    kind = RadioField(
        "调整为",
        choices=[SelectChoice("workday", "调休上班（该日上班）"), SelectChoice("holiday", "放假（该日休息）")],
        validators=[InputRequired(message="请选择调整类型")],
    )
    note = StringField(
        "说明",
        validators=[DataRequired(message="请填写说明，例如“国庆节调休上班”"), Length(max=200, message="说明不能超过200个字")],
        description="写明依据，例如“国务院办公厅关于2027年部分节假日安排的通知：春节调休上班”。",
    )

    def validate_day(self, field) -> None:
        if field.data is not None and not (MIN_YEAR <= field.data.year <= MAX_YEAR):
            raise ValidationError(f"日期须在{MIN_YEAR}年至{MAX_YEAR}年之间")

    def validate_note(self, field) -> None:
        if field.data and any(c in field.data for c in "\r\n\x00"):
            raise ValidationError("说明只能是一行文字")
