"""eligibility_for(call, org): the registry's rules plus each rule of the call, every reason in Chinese."""
from __future__ import annotations

from datetime import date, datetime

from incubator.calls.services import eligibility_for, rules_text
from incubator.extensions import db as _db
from incubator.orgs.models import (
    AnnualReport,
    AnnualReportResult,
    CreditKind,
    CreditRecord,
    OrgType,
    Verification,
)
from tests.calls.helpers import make_call
from tests.factories import make_org

NOW = datetime(2026, 6, 1, 4, 0)  # 2026-06-01 12:00 Beijing: the 2025 report was due on 2026-03-31


def _report(org, year=2025, result=AnnualReportResult.PASS):
    _db.session.add(AnnualReport(org=org, year=year, result=result))
    _db.session.flush()


def test_an_organisation_meeting_every_rule_is_eligible(db, districts):
    org = make_org(district=districts[0], founded_on=date(2018, 5, 1))
    _report(org)
    call = make_call(district=districts[0], district_orgs_only=True, min_years_since_founding=3,
                     allowed_org_types=["social_service_org"], require_annual_report_pass=True,
                     grade_preference_note="3A及以上优先")
    result = eligibility_for(call, org, now=NOW)
    assert result.ok and result.reasons == []


def test_org_type_rule(db):
    org = make_org(org_type=OrgType.SOCIAL_GROUP)
    _report(org)
    call = make_call(allowed_org_types=["foundation", "social_service_org"])
    result = eligibility_for(call, org, now=NOW)
    assert not result.ok
    assert any("本批次只接受民办非企业单位（社会服务机构）、基金会申报，该组织为社会团体" in r for r in result.reasons)


def test_minimum_years_since_founding(db):
    org = make_org(founded_on=date(2024, 6, 2))
    _report(org)
    call = make_call(min_years_since_founding=2)
    result = eligibility_for(call, org, now=NOW)
    assert result.reasons == ["成立未满2年（成立于2024年6月2日）"]
    org.founded_on = date(2024, 6, 1)  # exactly two years on the check day
    assert eligibility_for(call, org, now=NOW).ok


def test_annual_report_required_bars_a_missing_report(db):
    org = make_org()
    call = make_call(require_annual_report_pass=True)
    result = eligibility_for(call, org, now=NOW)
    assert not result.ok
    assert any("未登记2025年度年报结果" in r for r in result.reasons)
    # without the rule, a missing report is only a warning
    call.require_annual_report_pass = False
    result = eligibility_for(call, org, now=NOW)
    assert result.ok and any("2025年度年报" in w for w in result.warnings)


def test_a_failed_annual_report_always_bars(db):
    org = make_org()
    _report(org, result=AnnualReportResult.FAIL)
    call = make_call(require_annual_report_pass=False)
    result = eligibility_for(call, org, now=NOW)
    assert any("结论为不合格" in r for r in result.reasons)


def test_district_only_call_names_the_district(db, districts):
    org = make_org(district=districts[1])
    _report(org)
    call = make_call(district=districts[0], district_orgs_only=True)
    result = eligibility_for(call, org, now=NOW)
    assert result.reasons == ["本批次仅限甲区的社会组织申报"]
    # a district call open to the whole city accepts other districts' organisations
    call.district_orgs_only = False
    assert eligibility_for(call, org, now=NOW).ok


def test_grade_is_never_a_bar(db):
    org = make_org()  # no rating at all
    _report(org)
    call = make_call(grade_preference_note="4A及以上等级的组织同等条件下优先")
    assert eligibility_for(call, org, now=NOW).ok
    assert any("不作为申报门槛" in line for line in rules_text(call))


def test_every_reason_is_listed_at_once(db, districts):
    org = make_org(district=districts[1], org_type=OrgType.SOCIAL_GROUP, founded_on=date(2026, 1, 1),
                   status=Verification.PENDING)
    _db.session.add(CreditRecord(org=org, kind=CreditKind.ABNORMAL_LIST, reason="未按规定报送年度工作报告",
                                 source="洛民社异〔2026〕3号", start_on=date(2026, 4, 1)))
    _db.session.flush()
    call = make_call(district=districts[0], district_orgs_only=True, allowed_org_types=["foundation"],
                     min_years_since_founding=1)
    reasons = eligibility_for(call, org, now=NOW).reasons
    joined = "\n".join(reasons)
    for fragment in ("尚未通过民政部门认证", "活动异常名录", "本批次只接受基金会申报", "成立未满1年", "本批次仅限甲区的社会组织申报"):
        assert fragment in joined, fragment
    assert len(reasons) == 5


def test_rules_text_is_plain_chinese(db, districts):
    call = make_call(district=districts[0], district_orgs_only=True, allowed_org_types=["social_group"],
                     min_years_since_founding=2, max_applications_per_org=3)
    text = "\n".join(rules_text(call))
    assert "仅限注册（备案）地在甲区的社会组织" in text
    assert "组织类型：社会团体" in text
    assert "成立（登记或备案）满2年" in text
    assert "最多申报3个项目" in text
    assert "严重违法失信名单" in text
