"""Staff list: search, filters, sort, pagination, constant query count, district isolation, export."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from incubator.accounts.models import Role
from incubator.db import today_local
from incubator.orgs import services
from incubator.orgs.models import AnnualReportResult, CreditKind, OrgType, ServiceField, Verification
from tests.querycount import count_queries
from tests.conftest import login_as
from tests.factories import make_district, make_org, make_street, make_user
from tests.orgs.helpers import make_credit, make_rating, make_report




@pytest.fixture()
def two_districts(db):
    a, b = make_district(name="甲区", code="410302"), make_district(name="乙区", code="410303")
    staff_a = make_user(Role.STAFF, district=a)
    staff_b = make_user(Role.STAFF, district=b)
    city = make_user(Role.STAFF)
    admin = make_user(Role.ADMIN)
    org_a = make_org(district=a, name="甲区阳光社工服务中心", fields=[ServiceField.YOUTH])
    org_b = make_org(district=b, name="乙区夕阳红养老服务中心", fields=[ServiceField.ELDERLY], status=Verification.PENDING)
    db.session.commit()
    return dict(a=a, b=b, staff_a=staff_a, staff_b=staff_b, city=city, admin=admin, org_a=org_a, org_b=org_b)


def names(client, url):
    r = client.get(url)
    assert r.status_code == 200, r.status_code
    html = r.get_data(as_text=True)
    return {n for n in ("甲区阳光社工服务中心", "乙区夕阳红养老服务中心") if n in html}, html


# ---- district isolation ----------------------------------------------------------------------


def test_district_staff_see_only_their_district(client, db, two_districts):
    w = two_districts
    login_as(client, w["staff_a"])
    assert names(client, "/orgs/")[0] == {"甲区阳光社工服务中心"}
    assert names(client, "/orgs/?q=夕阳红")[0] == set()
    assert names(client, f"/orgs/?district={w['b'].id}")[0] == set()
    assert names(client, "/orgs/pending")[0] == set()
    assert client.get(f"/orgs/{w['org_b'].id}").status_code == 404
    assert client.post(f"/orgs/{w['org_b'].id}/annual-reports", data={"year": "2024", "result": "pass"}).status_code == 404
    assert client.post(f"/orgs/{w['org_b'].id}/profile-pdf").status_code == 404
    assert services.count_pending_verification(w["staff_a"]) == 0
    assert services.count_pending_verification(w["staff_b"]) == 1
    assert services.org_page(w["staff_a"], services.OrgFilters()).total == 1


@pytest.mark.parametrize("who", ["city", "admin"])
def test_city_staff_and_admin_see_everything(client, db, two_districts, who):
    login_as(client, two_districts[who])
    assert names(client, "/orgs/")[0] == {"甲区阳光社工服务中心", "乙区夕阳红养老服务中心"}
    assert services.count_pending_verification(two_districts[who]) == 1


def test_non_staff_get_nothing_from_the_scoped_query(db, two_districts):
    applicant = make_user(Role.APPLICANT, org=two_districts["org_a"])
    assert services.org_page(applicant, services.OrgFilters()).total == 0
    assert services.count_pending_verification(applicant) == 0


def xlsx_rows(response):
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(response.get_data())).active
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_export_is_district_scoped_and_filtered(client, db, two_districts):
    login_as(client, two_districts["staff_a"])
    rows = xlsx_rows(client.get("/orgs/export"))
    assert rows[0] == services.EXPORT_HEADERS
    assert [r[0] for r in rows[1:]] == ["甲区阳光社工服务中心"]
    login_as(client, two_districts["city"])
    assert len(xlsx_rows(client.get("/orgs/export"))) == 3
    assert [r[0] for r in xlsx_rows(client.get("/orgs/export?status=pending"))[1:]] == ["乙区夕阳红养老服务中心"]


def test_export_neutralises_formulas_and_keeps_numbers(client, db, two_districts):
    org = make_org(district=two_districts["a"], name="=HYPERLINK(\"http://x\",\"点击\")", legal_rep="+cmd|' /C calc'!A0",
                   contact_name="@SUM(1)", contact_phone="-1+1", staff_count=7, social_worker_count=2)
    db.session.commit()
    login_as(client, two_districts["staff_a"])
    rows = xlsx_rows(client.get("/orgs/export"))
    row = next(r for r in rows if "HYPERLINK" in str(r[0]))
    for cell in (row[0], row[7], row[8], row[9]):
        assert isinstance(cell, str) and cell.startswith("'"), cell
    assert row[11] == 7 and row[12] == 2  # counts stay numeric
    assert org.id


# ---- search, filters, sort, pagination ---------------------------------------------------------


@pytest.fixture()
def varied(db):
    d1, d2 = make_district(name="洛龙区", code="410311"), make_district(name="西工区", code="410303")
    today = today_local()
    staff = make_user(Role.STAFF)
    o = {}
    o["grade5"] = make_org(district=d1, name="五星社工中心", fields=[ServiceField.YOUTH])
    make_rating(o["grade5"], grade=5, awarded_on=today - timedelta(days=30))
    o["expired"] = make_org(district=d1, name="过期等级协会", org_type=OrgType.SOCIAL_GROUP, fields=[ServiceField.ELDERLY])
    make_rating(o["expired"], grade=4, awarded_on=today - timedelta(days=6 * 366))
    o["abnormal"] = make_org(district=d2, name="异常名录服务中心", fields=[ServiceField.ELDERLY, ServiceField.HEALTH])
    make_credit(o["abnormal"], kind=CreditKind.ABNORMAL_LIST, start_on=today - timedelta(days=10), end_on=today + timedelta(days=100))
    o["removed"] = make_org(district=d2, name="已移出服务中心", fields=[ServiceField.HEALTH])
    make_credit(o["removed"], kind=CreditKind.SERIOUS_LIST, start_on=today - timedelta(days=900), removed_on=today - timedelta(days=1))
    o["debarred"] = make_org(district=d1, name="禁入期基金会", org_type=OrgType.FOUNDATION, fields=[ServiceField.RELIEF])
    make_credit(o["debarred"], kind=CreditKind.DEBARMENT, start_on=today - timedelta(days=10), end_on=today + timedelta(days=1000))
    o["filed"] = make_org(district=d2, name="银龄互助队", org_type=OrgType.FILED_COMMUNITY_ORG, filing_number="LY-BA-2025-007",
                          status=Verification.PENDING, fields=[ServiceField.ELDERLY], founded_on=date(2024, 1, 1))
    o["rejected"] = make_org(district=d1, name="驳回的组织", status=Verification.REJECTED, founded_on=date(2010, 1, 1),
                             fields=[ServiceField.CULTURE_SPORTS])
    make_report(o["rejected"], 2024, AnnualReportResult.PASS)
    db.session.commit()
    return staff, d1, d2, o


def listed(client, query):
    r = client.get("/orgs/" + query)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    return html


@pytest.mark.parametrize("query,expected", [
    ("?q=社工", {"grade5"}),
    ("?q=LY-BA-2025-007", {"filed"}),
    ("?q=ly-ba", {"filed"}),
    ("?type=foundation", {"debarred"}),
    ("?type=filed_community_org", {"filed"}),
    ("?field=elderly", {"expired", "abnormal", "filed"}),
    ("?field=health", {"abnormal", "removed"}),
    ("?grade=5", {"grade5"}),
    ("?grade=4", set()),  # expired 4A does not count
    ("?grade=none", {"expired", "abnormal", "removed", "debarred", "filed", "rejected"}),
    ("?credit=abnormal_list", {"abnormal"}),
    ("?credit=serious_list", set()),  # removed yesterday
    ("?credit=debarment", {"debarred"}),
    ("?credit=any", {"abnormal", "debarred"}),
    ("?credit=clean", {"grade5", "expired", "removed", "filed", "rejected"}),
    ("?status=pending", {"filed"}),
    ("?status=rejected", {"rejected"}),
    ("?field=elderly&credit=clean", {"expired", "filed"}),
    ("?q=' OR 1=1--", set()),
    ("?q=%25", set()),  # a literal % matches nothing (escaped LIKE)
    ("?q=_", set()),
    ("?type=' OR 1=1--&grade=abc&credit=x&status=y&sort=z&district=-1&page=abc", "ALL"),
])
def test_filters(client, db, varied, query, expected):
    staff, d1, d2, o = varied
    login_as(client, staff)
    html = listed(client, query)
    want = set(o) if expected == "ALL" else expected
    shown = {key for key, org in o.items() if f'data-org-id="{org.id}"' in html}
    assert shown == want


def test_district_filter_for_city_staff(client, db, varied):
    staff, d1, d2, o = varied
    login_as(client, staff)
    html = listed(client, f"?district={d2.id}")
    assert {k for k, org in o.items() if f'data-org-id="{org.id}"' in html} == {"abnormal", "removed", "filed"}


def test_sort_by_name_and_founding(db, varied):
    staff, *_ = varied
    by_name = [org.name for org in services.org_page(staff, services.OrgFilters(sort="name")).items]
    assert by_name == sorted(by_name)
    by_founding = [org.founded_on for org in services.org_page(staff, services.OrgFilters(sort="founded")).items]
    assert by_founding == sorted(by_founding)


def test_pagination_twenty_per_page(client, db):
    district = make_district()
    staff = make_user(Role.STAFF)
    for i in range(45):
        make_org(district=district, name=f"分页测试组织{i:02d}")
    db.session.commit()
    login_as(client, staff)
    first = client.get("/orgs/?sort=name").get_data(as_text=True)
    assert first.count("data-org-id=") == 20 and "共 45 条" in first
    third = client.get("/orgs/?sort=name&page=3").get_data(as_text=True)
    assert third.count("data-org-id=") == 5 and "分页测试组织44" in third
    assert client.get("/orgs/?page=99").status_code == 200


def test_empty_states(client, db):
    staff = make_user(Role.STAFF)
    db.session.commit()
    login_as(client, staff)
    assert "名录中还没有社会组织" in client.get("/orgs/").get_data(as_text=True)
    assert "没有符合条件的社会组织" in client.get("/orgs/?q=不存在").get_data(as_text=True)


# ---- constant number of queries ------------------------------------------------------------------


def _fill(district, n):
    today = today_local()
    street = make_street(district)
    for i in range(n):
        org = make_org(district=district, street=street, fields=[ServiceField.ELDERLY, ServiceField.YOUTH])
        make_rating(org, grade=1 + i % 5, awarded_on=today - timedelta(days=10 + i))
        make_credit(org, kind=CreditKind.ABNORMAL_LIST, start_on=today - timedelta(days=5), end_on=today + timedelta(days=5))
        make_report(org, today.year - 1, AnnualReportResult.PASS)


def _queries_for_list(client, app, db, n):
    from incubator.extensions import db as _db

    _db.session.commit()
    with count_queries(_db.engine) as statements:
        r = client.get("/orgs/")
    assert r.status_code == 200
    assert r.get_data(as_text=True).count("data-org-id=") == min(n, 20)
    return len(statements)


def test_query_count_does_not_grow_with_rows(client, app, db):
    district = make_district()
    staff = make_user(Role.STAFF)
    _fill(district, 5)
    login_as(client, staff)
    small = _queries_for_list(client, app, db, 5)
    _fill(district, 45)
    big = _queries_for_list(client, app, db, 50)
    assert small == big, (small, big)
    assert big <= 15


def test_export_query_count_does_not_grow(client, app, db):
    district = make_district()
    staff = make_user(Role.STAFF)
    _fill(district, 5)
    login_as(client, staff)
    from incubator.extensions import db as _db

    _db.session.commit()
    with count_queries(_db.engine) as small:
        assert client.get("/orgs/export").status_code == 200
    _fill(district, 45)
    _db.session.commit()
    with count_queries(_db.engine) as big:
        assert client.get("/orgs/export").status_code == 200
    assert len(small) == len(big)


@pytest.mark.parametrize("path", [
    "/orgs/0", "/orgs/-1", "/orgs/abc", "/orgs/99999999999", "/orgs/2147483648",
])
def test_bad_org_ids_are_404(client, db, two_districts, path):
    login_as(client, two_districts["city"])
    assert client.get(path).status_code == 404
    assert client.post(path + "/verify").status_code in (404, 405)


def test_bad_ids_in_queries_and_record_urls(client, db, two_districts):
    w = two_districts
    login_as(client, w["city"])
    html = client.get("/orgs/?district=99999999999").get_data(as_text=True)
    assert "甲区阳光社工服务中心" in html  # an impossible district filter is ignored, not an error
    assert client.get("/orgs/export?district=99999999999").status_code == 200
    assert client.get("/orgs/regions.json?district=99999999999").get_json() == {"items": []}
    assert client.get("/orgs/regions.json?street=-1").get_json() == {"items": []}
    org = w["org_a"]
    for rid in ("0", "99999999999", "2147483648"):
        assert client.post(f"/orgs/{org.id}/credit/{rid}/remove", data={"removed_on": "2025-01-01", "note": "x"}).status_code == 404
