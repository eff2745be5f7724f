"""May this organisation apply for government funding today? (承接主体资格)

``check_eligibility(org, on=..., rules=...)`` returns an :class:`Eligibility` with *every* reason
that bars the organisation, in Chinese, never just the first. The registry's own rules always
apply:

* 未认证 — the organisation has not been verified by staff;
* 活动异常名录 / 严重违法失信名单 — an active entry (民政部令第60号: listed organisations are not
  eligible for government funding);
* 禁入期 — an active debarment (an agreement broken, 3 years by default, Zhongshan practice);
* the latest annual report (年报/年检) result is 不合格.

Soft rule (documented choice): a *missing* annual report for the last year whose report is due
(due 31 March of the next year) is only a **warning** by default, because staff record results
after the fact and an unrecorded result usually means "not entered yet", not "not filed". A call
that wants it to bar sets ``EligibilityRules(missing_annual_report_bars=True)``. Filed community
organisations (备案类, not legal persons) take no annual inspection and are exempt, as are
organisations founded in or after the year concerned.

The 等级评估 grade is NEVER a condition here: 财政部令第102号 forbids discriminatory conditions;
a call may use the grade only as a bonus in review.

Per-call rules: the calls domain builds an :class:`EligibilityRules` from a call's settings
(allowed types, minimum years since founding, districts) and passes it as ``rules=``; each rule
that fails adds its own reason. ``rules=None`` checks only the registry's rules above.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from incubator.db import today_local
from incubator.orgs.models import AnnualReportResult, CreditKind, Organization, OrgType, Verification
from incubator.orgs.rules import annual_report_due


def _d(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "—"


@dataclass(frozen=True)
class EligibilityRules:
    """Conditions a call adds to the registry's own (all optional; the default adds none)."""

    org_types: frozenset[OrgType] | None = None  # accepted types; None = every type
    min_years_since_founding: int = 0  # whole years between founded_on and the check date
    district_ids: frozenset[int] | None = None  # accepted districts; None = the whole city
    missing_annual_report_bars: bool = False  # soft rule above: warn (False) or bar (True)


@dataclass
class Eligibility:
    ok: bool
    reasons: list[str] = field(default_factory=list)  # every bar, in Chinese
    warnings: list[str] = field(default_factory=list)  # soft findings that do not bar

    def __bool__(self) -> bool:
        return self.ok


class NotEligible(Exception):
    """Raised by ``require_eligible``; views show ``reasons`` and answer 409."""

    def __init__(self, reasons: list[str]):
        self.reasons = list(reasons)
        super().__init__("；".join(self.reasons))


def _whole_years(start: date, end: date) -> int:
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


def last_due_report_year(on: date) -> int:
    """The latest year whose annual report was due on or before ``on`` (due 31 March next year)."""
    return on.year - 1 if on > annual_report_due(on.year - 1) else on.year - 2


_CREDIT_REASON = {
    CreditKind.ABNORMAL_LIST: "已被列入活动异常名录",
    CreditKind.SERIOUS_LIST: "已被列入严重违法失信名单",
    CreditKind.DEBARMENT: "处于禁入期内",
}


def check_eligibility(org: Organization, *, on: date | None = None, rules: EligibilityRules | None = None) -> Eligibility:
    on = on or today_local()
    rules = rules or EligibilityRules()
    reasons: list[str] = []
    warnings: list[str] = []

    if org.status != Verification.VERIFIED:
        reasons.append(f"组织尚未通过民政部门认证（当前状态：{org.status.label}），认证通过后方可申报")

    for kind in (CreditKind.ABNORMAL_LIST, CreditKind.SERIOUS_LIST, CreditKind.DEBARMENT):
        for rec in sorted((c for c in org.credit_records if c.kind == kind and c.active_on(on)), key=lambda c: c.start_on):
            until = f"至{_d(rec.end_on)}" if rec.end_on else "（未定期限）"
            reasons.append(f"{_CREDIT_REASON[kind]}（{_d(rec.start_on)}起{until}，依据：{rec.source}；原因：{rec.reason}）")

    if org.org_type != OrgType.FILED_COMMUNITY_ORG:
        latest = org.latest_annual_report(before_year=on.year)
        if latest is not None and latest.result == AnnualReportResult.FAIL:
            reasons.append(f"最近一次年报（{latest.year}年度）结论为不合格")
        due_year = last_due_report_year(on)
        has_due = any(r.year == due_year for r in org.annual_reports)
        if not has_due and org.founded_on.year < due_year:
            message = f"未登记{due_year}年度年报结果（应于{_d(annual_report_due(due_year))}前报送）"
            (reasons if rules.missing_annual_report_bars else warnings).append(message)

    if rules.org_types is not None and org.org_type not in rules.org_types:
        accepted = "、".join(t.label for t in OrgType if t in rules.org_types)
        reasons.append(f"本批次只接受{accepted}申报，该组织为{org.org_type.label}")
    if rules.min_years_since_founding > 0 and _whole_years(org.founded_on, on) < rules.min_years_since_founding:
        reasons.append(f"成立未满{rules.min_years_since_founding}年（成立于{_d(org.founded_on)}）")
    if rules.district_ids is not None and org.district_id not in rules.district_ids:
        reasons.append("组织所在区不在本批次申报范围内")

    return Eligibility(ok=not reasons, reasons=reasons, warnings=warnings)


def require_eligible(org: Organization, *, on: date | None = None, rules: EligibilityRules | None = None) -> Eligibility:
    result = check_eligibility(org, on=on, rules=rules)
    if not result.ok:
        raise NotEligible(result.reasons)
    return result
