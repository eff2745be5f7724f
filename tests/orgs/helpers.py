"""Factories and form data for the registry's tests (shared factories live in tests/factories.py)."""
from __future__ import annotations

from datetime import date

from incubator.extensions import db
from incubator.orgs.models import AnnualReport, AnnualReportResult, CreditKind, CreditRecord, Rating
from tests.factories import make_community, make_district, make_street

PASSWORD = "绿水青山就是金山银山2026"


def make_report(org, year: int, result=AnnualReportResult.PASS, **kw) -> AnnualReport:
    row = AnnualReport(org=org, year=year, result=result, **kw)
    db.session.add(row)
    db.session.flush()
    return row


def make_rating(org, grade: int = 4, awarded_on: date = date(2023, 6, 1), expires_on: date | None = None) -> Rating:
    row = Rating(org=org, grade=grade, awarded_on=awarded_on, expires_on=expires_on or awarded_on.replace(year=awarded_on.year + 5))
    db.session.add(row)
    db.session.flush()
    return row


def make_credit(org, kind=CreditKind.ABNORMAL_LIST, start_on=date(2025, 1, 6), end_on=None, removed_on=None, **kw) -> CreditRecord:
    row = CreditRecord(
        org=org, kind=kind, reason=kw.pop("reason", "未按规定报送年度工作报告"), source=kw.pop("source", "洛民社〔2025〕1号"),
        start_on=start_on, end_on=end_on, removed_on=removed_on, **kw,
    )
    db.session.add(row)
    db.session.flush()
    return row


def make_region():
    """A district with one street and one community (what the registration form needs)."""
    district = make_district(name="洛龙区", code="410311")
    street = make_street(district, name="翠云路街道")
    community = make_community(street, name="广利社区")
    return district, street, community


def registration_data(_district, _street, _community=None, **overrides) -> dict:
    """A complete, valid registration POST; override any field."""
    data = {
        "name": "洛阳市洛龙区阳光社会工作服务中心",
        "org_type": "social_service_org",
        "uscc": "52440106MJL001238R",
        "filing_number": "",
        "host_uscc": "",
        "district": str(_district.id),
        "street": str(_street.id),
        "community": str(_community.id) if _community else "0",
        "address": "洛阳市洛龙区翠云路18号",
        "founded_on": "2019-05-20",
        "registration_authority": "洛阳市洛龙区民政局",
        "legal_rep": "张伟",
        "contact_name": "李娜",
        "contact_phone": "13903790001",
        "contact_email": "contact@yangguang.org.cn",
        "fields": ["elderly", "youth"],
        "staff_count": "12",
        "social_worker_count": "5",
        "has_party_org": "1",
        "party_org_note": "独立党支部，党员6名",
        "intro": "立足社区，服务老人和青少年。",
        "member_name": "周婷",
        "member_email": "zhouting@yangguang.org.cn",
        "member_mobile": "13903790002",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    data.update(overrides)
    return data
