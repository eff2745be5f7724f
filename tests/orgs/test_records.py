"""Staff records: annual reports, grades, credit records (rules as data), all audited and shown."""
from __future__ import annotations

from datetime import date

import pytest

from incubator.accounts.models import Role
from incubator.core.audit import AuditLog
from incubator.orgs import services
from incubator.orgs.models import AnnualReport, AnnualReportResult, CreditKind, CreditRecord, Rating
from incubator.orgs.rules import CREDIT_RULES, add_months, rating_default_expiry
from tests.conftest import login_as
from tests.factories import make_district, make_org, make_user
from tests.orgs.helpers import make_credit


@pytest.fixture()
def setup(db):
    district = make_district()
    org = make_org(district=district, founded_on=date(2015, 1, 1))
    staff = make_user(Role.STAFF, district=district)
    db.session.commit()
    return org, staff


def actions(db):
    return [a.action for a in db.session.scalars(db.select(AuditLog).order_by(AuditLog.id))]


@pytest.mark.parametrize("start,months,end", [
    (date(2026, 1, 31), 6, date(2026, 7, 31)),
    (date(2025, 8, 31), 6, date(2026, 2, 28)),
    (date(2024, 2, 29), 24, date(2026, 2, 28)),
    (date(2026, 3, 15), 36, date(2029, 3, 15)),
])
def test_add_months(start, months, end):
    assert add_months(start, months) == end


def test_rules_as_data():
    assert CREDIT_RULES[CreditKind.ABNORMAL_LIST].default_end(date(2026, 1, 5)) == date(2026, 7, 5)
    assert CREDIT_RULES[CreditKind.SERIOUS_LIST].default_end(date(2026, 1, 5)) == date(2028, 1, 5)
    assert CREDIT_RULES[CreditKind.DEBARMENT].default_end(date(2026, 1, 5)) == date(2029, 1, 5)
    assert CREDIT_RULES[CreditKind.ABNORMAL_LIST].removal_workdays_after_correction == 5
    assert all("令" in r.source or "办法" in r.source for r in CREDIT_RULES.values())
    assert rating_default_expiry(date(2024, 6, 1)) == date(2029, 6, 1)


def test_settings_override_the_defaults(app, db):
    app.config["ORG_DEBARMENT_MONTHS"] = 60
    try:
        assert CREDIT_RULES[CreditKind.DEBARMENT].default_end(date(2026, 1, 5)) == date(2031, 1, 5)
    finally:
        del app.config["ORG_DEBARMENT_MONTHS"]


def test_annual_report_one_per_year(db, setup):
    org, staff = setup
    services.record_annual_report(org, by=staff, year=2025, result=AnnualReportResult.PASS)
    with pytest.raises(services.RecordConflict, match="2025年度的年报结论已登记"):
        services.record_annual_report(org, by=staff, year=2025, result=AnnualReportResult.FAIL)
    with pytest.raises(services.RecordConflict, match="不能早于成立年份"):
        services.record_annual_report(org, by=staff, year=2010, result=AnnualReportResult.PASS)
    assert "org.annual_report" in actions(db)


def test_annual_report_view(client, db, setup):
    org, staff = setup
    login_as(client, staff)
    r = client.post(f"/orgs/{org.id}/annual-reports", data={"year": "2025", "result": "basic_pass", "note": "财务制度需完善"})
    assert r.status_code == 302
    row = db.session.scalar(db.select(AnnualReport))
    assert (row.year, row.result, row.recorded_by_id) == (2025, AnnualReportResult.BASIC_PASS, staff.id)
    again = client.post(f"/orgs/{org.id}/annual-reports", data={"year": "2025", "result": "pass"})
    assert again.status_code == 409 and "已登记" in again.get_data(as_text=True)
    for bad in ({"year": "2999", "result": "pass"}, {"year": "abc", "result": "pass"}, {"year": "2025", "result": "excellent"}):
        assert client.post(f"/orgs/{org.id}/annual-reports", data=bad).status_code == 422
    html = client.get(f"/orgs/{org.id}").get_data(as_text=True)
    assert "2025年度" in html and "基本合格" in html and "财务制度需完善" in html


def test_rating_default_expiry_and_view(client, db, setup):
    org, staff = setup
    login_as(client, staff)
    r = client.post(f"/orgs/{org.id}/ratings", data={"grade": "4", "awarded_on": "2024-06-01", "source": "洛民评〔2024〕3号"})
    assert r.status_code == 302
    rating = db.session.scalar(db.select(Rating))
    assert (rating.grade, rating.awarded_on, rating.expires_on) == (4, date(2024, 6, 1), date(2029, 6, 1))
    assert client.post(f"/orgs/{org.id}/ratings", data={"grade": "6", "awarded_on": "2024-06-01"}).status_code == 422
    bad = client.post(f"/orgs/{org.id}/ratings", data={"grade": "3", "awarded_on": "2024-06-01", "expires_on": "2024-01-01"})
    assert bad.status_code == 422 and "有效期不能早于评定日期" in bad.get_data(as_text=True)
    html = client.get(f"/orgs/{org.id}").get_data(as_text=True)
    assert "4A" in html and "2029年6月1日" in html
    assert "org.rating" in actions(db)


@pytest.mark.parametrize("kind,end", [
    ("abnormal_list", date(2025, 9, 1)), ("serious_list", date(2027, 3, 1)), ("debarment", date(2028, 3, 1)),
])
def test_credit_record_default_end(client, db, setup, kind, end):
    org, staff = setup
    login_as(client, staff)
    r = client.post(f"/orgs/{org.id}/credit", data={"kind": kind, "reason": "未按规定报送年度工作报告",
                                                    "source": "洛民社〔2025〕5号", "start_on": "2025-03-01"})
    assert r.status_code == 302
    rec = db.session.scalar(db.select(CreditRecord))
    assert rec.end_on == end and rec.recorded_by_id == staff.id
    assert "org.credit_added" in actions(db)


def test_credit_record_validation(client, db, setup):
    org, staff = setup
    login_as(client, staff)
    base = {"kind": "debarment", "reason": "违约", "source": "洛民〔2025〕1号", "start_on": "2025-03-01"}
    for bad, message in [({"kind": "blacklist"}, "请从列表中选择"), ({"reason": ""}, "请填写列入原因"), ({"source": ""}, "请填写决定文书"),
                         ({"start_on": "2025-02-30"}, "日期不存在"), ({"end_on": "2025-01-01"}, "届满日期不能早于列入日期")]:
        r = client.post(f"/orgs/{org.id}/credit", data={**base, **bad})
        assert r.status_code == 422 and message in r.get_data(as_text=True), bad
    assert db.session.scalar(db.select(CreditRecord)) is None


def test_correction_sets_removal_five_working_days_later(client, db, setup):
    org, staff = setup
    rec = make_credit(org, start_on=date(2025, 1, 6), end_on=date(2025, 7, 6))
    db.session.commit()
    login_as(client, staff)
    # Monday 3 March 2025 + 5 working days = Monday 10 March (民政部令第60号: removed within 5 working days).
    r = client.post(f"/orgs/{org.id}/credit/{rec.id}/correct", data={"corrected_on": "2025-03-03"})
    assert r.status_code == 302
    db.session.refresh(rec)
    assert rec.corrected_on == date(2025, 3, 3) and rec.end_on == date(2025, 3, 10)
    assert "org.credit_corrected" in actions(db)


def test_correction_across_a_holiday(db, setup):
    org, staff = setup
    rec = make_credit(org, start_on=date(2025, 6, 1), end_on=date(2025, 12, 1))
    services.record_correction(rec, by=staff, corrected_on=date(2025, 9, 29))
    # 29 Sep (Mon): 30 Sep is 1; 1–8 Oct National Day holiday; 9, 10, 11 (调休 Saturday) are 2–4; 13 Oct is 5.
    assert rec.end_on == date(2025, 10, 13)


def test_only_abnormal_list_can_be_corrected(db, setup):
    org, staff = setup
    rec = make_credit(org, kind=CreditKind.SERIOUS_LIST, start_on=date(2025, 1, 6))
    with pytest.raises(services.RecordConflict, match="只有活动异常名录"):
        services.record_correction(rec, by=staff, corrected_on=date(2025, 3, 3))


def test_removal(client, db, setup):
    org, staff = setup
    rec = make_credit(org, kind=CreditKind.SERIOUS_LIST, start_on=date(2023, 1, 6))
    db.session.commit()
    login_as(client, staff)
    assert client.post(f"/orgs/{org.id}/credit/{rec.id}/remove", data={"removed_on": "2025-01-06"}).status_code == 422
    assert client.post(f"/orgs/{org.id}/credit/{rec.id}/remove",
                       data={"removed_on": "2022-01-06", "note": "x"}).status_code == 409  # before the start
    r = client.post(f"/orgs/{org.id}/credit/{rec.id}/remove", data={"removed_on": "2025-01-06", "note": "满2年未再违法失信"})
    assert r.status_code == 302
    db.session.refresh(rec)
    assert rec.removed_on == date(2025, 1, 6) and rec.removal_note == "满2年未再违法失信" and rec.removed_by_id == staff.id
    assert client.post(f"/orgs/{org.id}/credit/{rec.id}/remove", data={"removed_on": "2025-01-07", "note": "x"}).status_code == 409
    html = client.get(f"/orgs/{org.id}").get_data(as_text=True)
    assert "已移出" in html and "满2年未再违法失信" in html
    assert "org.credit_removed" in actions(db)


def test_record_of_another_org_is_404(client, db, setup):
    org, staff = setup
    other = make_org(district=org.district)
    rec = make_credit(other)
    db.session.commit()
    login_as(client, staff)
    assert client.post(f"/orgs/{org.id}/credit/{rec.id}/remove", data={"removed_on": "2025-03-01", "note": "x"}).status_code == 404
    db.session.refresh(rec)
    assert rec.removed_on is None


def test_detail_shows_eligibility_reasons(client, db, setup):
    org, staff = setup
    make_credit(org, kind=CreditKind.DEBARMENT, start_on=date(2025, 1, 1), end_on=date(2099, 1, 1), reason="擅自变更资金用途")
    db.session.commit()
    login_as(client, staff)
    html = client.get(f"/orgs/{org.id}").get_data(as_text=True)
    assert "目前不能申报项目" in html and "处于禁入期内" in html and "擅自变更资金用途" in html
