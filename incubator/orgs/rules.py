"""The registry's rules of the field, as data, each with its source.

Periods are the *defaults* the staff form proposes; staff may type another date (a decision
document can say otherwise). Every period ends on ``start + period`` inclusive: the record is
active through that day (``CreditRecord.active_on``). A setting of the same name in the app config
(e.g. ``ORG_DEBARMENT_MONTHS = 60``) overrides the default without code changes (DOMAIN.md: local
numbers are settings).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from flask import current_app, has_app_context

from incubator.orgs.models import CreditKind


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later; the 31st (or 29 Feb) falls back to the month's last day."""
    total = day.year * 12 + (day.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _setting(name: str, default: int) -> int:
    if has_app_context():
        value = current_app.config.get(name)
        if value is not None:
            return int(value)
    return default


@dataclass(frozen=True)
class CreditRule:
    kind: CreditKind
    period_months: int | None  # default length on the list; None = until removed
    removal_workdays_after_correction: int | None  # 活动异常名录 only
    source: str
    setting: str | None = None

    def months(self) -> int | None:
        if self.period_months is None or self.setting is None:
            return self.period_months
        return _setting(self.setting, self.period_months)

    def default_end(self, start_on: date) -> date | None:
        months = self.months()
        return add_months(start_on, months) if months is not None else None


CREDIT_RULES: dict[CreditKind, CreditRule] = {
    # 民政部令第60号《社会组织信用信息管理办法》: 列入活动异常名录满6个月自动移出; an organisation
    # that corrects the cause is removed within 5 working days of the check (第十二条).
    CreditKind.ABNORMAL_LIST: CreditRule(
        CreditKind.ABNORMAL_LIST, 6, 5, "民政部令第60号（活动异常名录：整改后5个工作日内移出，满6个月自动移出）",
        setting="ORG_ABNORMAL_LIST_MONTHS",
    ),
    # 民政部令第60号: 严重违法失信名单 removed after 2 years without further violations (第十四条).
    CreditKind.SERIOUS_LIST: CreditRule(
        CreditKind.SERIOUS_LIST, 24, None, "民政部令第60号（严重违法失信名单：满2年且未再违法失信的移出）",
        setting="ORG_SERIOUS_LIST_MONTHS",
    ),
    # Local practice (Zhongshan 公益创投): an organisation that breaks its agreement is barred for 3 years.
    CreditKind.DEBARMENT: CreditRule(
        CreditKind.DEBARMENT, 36, None, "中山市公益创投实施办法（违约者3年内不得申报）", setting="ORG_DEBARMENT_MONTHS"
    ),
}

# 等级评估 grades are valid 5 years (民政部令第39号《社会组织评估管理办法》第二十八条).
RATING_VALID_YEARS_DEFAULT = 5
RATING_SOURCE = "民政部令第39号（评估等级有效期5年）"


def rating_valid_years() -> int:
    return _setting("ORG_RATING_VALID_YEARS", RATING_VALID_YEARS_DEFAULT)


def rating_default_expiry(awarded_on: date) -> date:
    return add_months(awarded_on, 12 * rating_valid_years())


# 年报 for year Y is due by 31 March of Y+1 (《社会组织年度报告》/年检 practice, DOMAIN.md).
ANNUAL_REPORT_DUE_MONTH, ANNUAL_REPORT_DUE_DAY = 3, 31


def annual_report_due(year: int) -> date:
    return date(year + 1, ANNUAL_REPORT_DUE_MONTH, ANNUAL_REPORT_DUE_DAY)


def abnormal_removal_due(corrected_on: date) -> date:
    """The last day an organisation stays on the 活动异常名录 after correcting: 5 working days on."""
    from incubator.core.workdays import add_workdays

    rule = CREDIT_RULES[CreditKind.ABNORMAL_LIST]
    return add_workdays(corrected_on, _setting("ORG_ABNORMAL_REMOVAL_WORKDAYS", rule.removal_workdays_after_correction or 5))
