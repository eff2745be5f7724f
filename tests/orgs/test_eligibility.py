"""check_eligibility: every reason, boundaries of credit periods, the soft annual-report rule, per-call rules."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from incubator.orgs.eligibility import EligibilityRules, NotEligible, check_eligibility, last_due_report_year, require_eligible
from incubator.orgs.models import AnnualReportResult, CreditKind, OrgType, Verification
from tests.factories import make_org
from tests.orgs.helpers import make_credit, make_rating, make_report

TODAY = date(2026, 6, 15)
YESTERDAY, TOMORROW = TODAY - timedelta(days=1), TODAY + timedelta(days=1)


def clean_org(**kw):
    org = make_org(founded_on=date(2015, 3, 1), **kw)
    make_report(org, 2025, AnnualReportResult.PASS)
    return org


def test_clean_verified_org_is_eligible(db):
    result = check_eligibility(clean_org(), on=TODAY)
    assert result.ok and result.reasons == [] and result.warnings == []
    assert bool(result) is True


@pytest.mark.parametrize("status", [Verification.PENDING, Verification.REJECTED])
def test_unverified_org_is_not_eligible(db, status):
    result = check_eligibility(clean_org(status=status), on=TODAY)
    assert not result.ok
    assert any("尚未通过民政部门认证" in r and status.label in r for r in result.reasons)


# (kind, start, end, removed) → barred on TODAY?
CREDIT_CASES = [
    ("active, open-ended", CreditKind.SERIOUS_LIST, date(2025, 1, 1), None, None, True),
    ("ends today (last day inclusive)", CreditKind.ABNORMAL_LIST, date(2026, 1, 1), TODAY, None, True),
    ("ended yesterday", CreditKind.ABNORMAL_LIST, date(2026, 1, 1), YESTERDAY, None, False),
    ("starts today", CreditKind.DEBARMENT, TODAY, date(2029, 6, 15), None, True),
    ("starts tomorrow", CreditKind.DEBARMENT, TOMORROW, date(2029, 6, 15), None, False),
    ("removed today", CreditKind.ABNORMAL_LIST, date(2026, 1, 1), date(2026, 7, 1), TODAY, False),
    ("removed tomorrow", CreditKind.ABNORMAL_LIST, date(2026, 1, 1), date(2026, 7, 1), TOMORROW, True),
    ("removed yesterday", CreditKind.SERIOUS_LIST, date(2024, 1, 1), None, YESTERDAY, False),
    ("debarment ending yesterday", CreditKind.DEBARMENT, date(2023, 6, 15), YESTERDAY, None, False),
    ("debarment ending today", CreditKind.DEBARMENT, date(2023, 6, 15), TODAY, None, True),
]


@pytest.mark.parametrize("label,kind,start,end,removed,barred", CREDIT_CASES, ids=[c[0] for c in CREDIT_CASES])
def test_credit_records_at_the_boundaries(db, label, kind, start, end, removed, barred):
    org = clean_org()
    make_credit(org, kind=kind, start_on=start, end_on=end, removed_on=removed, source="洛民〔2026〕9号")
    result = check_eligibility(org, on=TODAY)
    expected = {CreditKind.ABNORMAL_LIST: "活动异常名录", CreditKind.SERIOUS_LIST: "严重违法失信名单", CreditKind.DEBARMENT: "禁入期"}[kind]
    assert result.ok is (not barred)
    assert any(expected in r and "洛民〔2026〕9号" in r for r in result.reasons) is barred


def test_every_reason_is_listed_not_just_the_first(db):
    org = make_org(status=Verification.PENDING, founded_on=date(2015, 3, 1))
    make_report(org, 2025, AnnualReportResult.FAIL)
    make_credit(org, kind=CreditKind.ABNORMAL_LIST, start_on=date(2026, 1, 5), end_on=date(2026, 7, 5))
    make_credit(org, kind=CreditKind.SERIOUS_LIST, start_on=date(2025, 1, 5))
    make_credit(org, kind=CreditKind.DEBARMENT, start_on=date(2024, 1, 5), end_on=date(2027, 1, 5))
    result = check_eligibility(org, on=TODAY)
    assert not result.ok
    joined = "\n".join(result.reasons)
    for text in ["尚未通过民政部门认证", "活动异常名录", "严重违法失信名单", "禁入期", "2025年度）结论为不合格"]:
        assert text in joined
    assert len(result.reasons) == 5


@pytest.mark.parametrize("result,barred", [
    (AnnualReportResult.PASS, False), (AnnualReportResult.BASIC_PASS, False), (AnnualReportResult.FAIL, True),
])
def test_latest_annual_report(db, result, barred):
    org = make_org(founded_on=date(2015, 3, 1))
    make_report(org, 2024, AnnualReportResult.FAIL)  # an older failure does not bar
    make_report(org, 2025, result)
    assert check_eligibility(org, on=TODAY).ok is (not barred)


def test_an_old_fail_followed_by_a_pass_is_fine_but_a_fail_after_a_pass_bars(db):
    org = make_org(founded_on=date(2015, 3, 1))
    make_report(org, 2024, AnnualReportResult.PASS)
    make_report(org, 2025, AnnualReportResult.FAIL)
    assert "2025年度" in check_eligibility(org, on=TODAY).reasons[0]


@pytest.mark.parametrize("on,due_year", [
    (date(2026, 3, 31), 2024),  # last year's report is due today: not yet missing
    (date(2026, 4, 1), 2025),  # the day after 31 March: last year's report is due
    (date(2026, 1, 1), 2024),
    (date(2026, 12, 31), 2025),
])
def test_last_due_report_year(on, due_year):
    assert last_due_report_year(on) == due_year


def test_missing_report_is_a_warning_by_default_and_a_bar_when_the_call_says_so(db):
    org = make_org(founded_on=date(2015, 3, 1))
    make_report(org, 2024, AnnualReportResult.PASS)
    soft = check_eligibility(org, on=date(2026, 4, 1))
    assert soft.ok and soft.warnings and "2025年度" in soft.warnings[0] and "2026年3月31日" in soft.warnings[0]
    hard = check_eligibility(org, on=date(2026, 4, 1), rules=EligibilityRules(missing_annual_report_bars=True))
    assert not hard.ok and "未登记2025年度年报结果" in hard.reasons[0]
    # On 31 March the 2025 report is not late yet.
    assert check_eligibility(org, on=date(2026, 3, 31), rules=EligibilityRules(missing_annual_report_bars=True)).ok


def test_no_report_expected_from_new_or_filed_orgs(db):
    new = make_org(founded_on=date(2025, 9, 1))  # founded during the year concerned
    assert check_eligibility(new, on=TODAY, rules=EligibilityRules(missing_annual_report_bars=True)).ok
    filed = make_org(org_type=OrgType.FILED_COMMUNITY_ORG, founded_on=date(2015, 1, 1))
    assert check_eligibility(filed, on=TODAY, rules=EligibilityRules(missing_annual_report_bars=True)).ok


@pytest.mark.parametrize("grade,awarded", [(None, None), (1, date(2024, 1, 1)), (5, date(2015, 1, 1))])
def test_grade_is_never_a_bar(db, grade, awarded):
    """财政部令第102号: no discriminatory conditions; no grade, 1A or an expired 5A are all eligible."""
    org = clean_org()
    if grade:
        make_rating(org, grade=grade, awarded_on=awarded)
    assert check_eligibility(org, on=TODAY).ok


def test_per_call_rules(db):
    org = clean_org(org_type=OrgType.SOCIAL_GROUP)
    org.founded_on = date(2024, 7, 1)
    rules = EligibilityRules(
        org_types=frozenset({OrgType.SOCIAL_SERVICE_ORG, OrgType.FOUNDATION}),
        min_years_since_founding=2,
        district_ids=frozenset({-1}),
    )
    result = check_eligibility(org, on=TODAY, rules=rules)
    joined = "\n".join(result.reasons)
    assert "只接受民办非企业单位（社会服务机构）、基金会申报" in joined and "社会团体" in joined
    assert "成立未满2年" in joined
    assert "所在区不在本批次申报范围内" in joined
    # Exactly two years on the day: old enough.
    assert check_eligibility(org, on=date(2026, 7, 1), rules=EligibilityRules(min_years_since_founding=2)).ok
    assert not check_eligibility(org, on=date(2026, 6, 30), rules=EligibilityRules(min_years_since_founding=2)).ok


def test_require_eligible_raises_with_all_reasons(db):
    org = clean_org(status=Verification.PENDING)
    make_credit(org, kind=CreditKind.DEBARMENT, start_on=date(2026, 1, 1), end_on=date(2029, 1, 1))
    with pytest.raises(NotEligible) as info:
        require_eligible(org, on=TODAY)
    assert len(info.value.reasons) == 2
    assert require_eligible(clean_org(), on=TODAY).ok
