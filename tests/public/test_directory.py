"""社会组织名录 (/directory): verified organisations only, public fields only, grades and credit markers,
search, filters, pagination, a constant number of queries, escaped names, 404 for the rest."""
from __future__ import annotations

import re
from datetime import date, timedelta

from incubator.db import today_local
from incubator.orgs.models import CreditKind, CreditRecord, OrgType, Rating, ServiceField, Verification
from incubator.projects.models import ProjectStatus
from tests.factories import make_district, make_org
from tests.querycount import count_queries
from tests.public.helpers import funded


def _names(html: str) -> list[str]:
    return re.findall(r'class="fw-semibold">([^<]+)</a>\s*<div class="small text-muted font-monospace">', html)


def _rating(org, grade: int, *, awarded_on: date | None = None, years: int = 5):
    awarded_on = awarded_on or today_local() - timedelta(days=100)
    org.ratings.append(Rating(grade=grade, awarded_on=awarded_on, expires_on=awarded_on.replace(year=awarded_on.year + years)))


def _credit(org, kind: CreditKind, **kw):
    day = today_local()
    values = dict(reason="内部说明：未报送年报（工作人员备注）", source="洛民社异〔2026〕3号", start_on=day - timedelta(days=30))
    values.update(kw)
    org.credit_records.append(CreditRecord(kind=kind, **values))


def test_only_verified_organisations_are_listed(client, db):
    make_org(name="甲已认证社工中心")
    make_org(name="乙待认证社工中心", status=Verification.PENDING)
    make_org(name="丙已驳回社工中心", status=Verification.REJECTED, rejection_reason="证书不清晰")
    db.session.commit()
    html = client.get("/directory").get_data(as_text=True)
    assert _names(html) == ["甲已认证社工中心"]
    assert "乙待认证" not in html and "丙已驳回" not in html and "证书不清晰" not in html
    assert 'data-testid="directory-total">1<' in html


def test_unverified_unknown_and_odd_ids_are_404(client, db):
    pending = make_org(status=Verification.PENDING)
    rejected = make_org(status=Verification.REJECTED)
    db.session.commit()
    for url in (f"/directory/{pending.id}", f"/directory/{rejected.id}", "/directory/99999999999",
                "/directory/2147483648", "/directory/0", "/directory/abc", "/directory/-1"):
        assert client.get(url).status_code == 404, url


def test_private_fields_are_never_shown(client, db):
    org = make_org(name="阳光社工服务中心", contact_name="周婷婷", contact_phone="13912345678",
                   contact_email="secret-contact@example.cn", legal_rep="王大法", address="洛阳市私密路88号",
                   rejection_reason=None, intro="服务社区老人。", party_org_note="党支部内部备注")
    project = funded(org, status=ProjectStatus.CLOSED, final=91)
    _credit(org, CreditKind.ABNORMAL_LIST)
    project.prior_assessment = "事前绩效评估内部意见"
    db.session.commit()
    pages = [client.get(url).get_data(as_text=True) for url in
             ("/directory", f"/directory/{org.id}", "/funded-projects", f"/funded-projects/{project.id}")]
    for html in pages:
        for secret in ("13912345678", "secret-contact@example.cn", "周婷婷", "王大法", "私密路", "党支部内部备注",
                       "内部说明", "事前绩效评估内部意见"):
            assert secret not in html
    detail = pages[1]
    assert "阳光社工服务中心" in detail and org.uscc in detail and "服务社区老人。" in detail
    assert "2018年5月1日" in detail  # founded


def test_demo_organisations_show_no_contact_details(client, db):
    from incubator.demo import load_demo_data
    from incubator.orgs.models import Organization

    load_demo_data()
    db.session.commit()
    orgs = list(db.session.scalars(db.select(Organization)))
    verified = [o for o in orgs if o.status == Verification.VERIFIED]
    hidden = [o for o in orgs if o.status != Verification.VERIFIED]
    assert verified and hidden
    pages = [client.get(f"/directory?page={n}").get_data(as_text=True) for n in (1, 2)]
    pages += [client.get(f"/directory/{o.id}").get_data(as_text=True) for o in verified]
    pages += [client.get("/funded-projects").get_data(as_text=True)]
    text = "\n".join(pages)
    for org in orgs:
        assert org.contact_phone not in text, org.name
        assert org.contact_email not in text, org.name
    for org in hidden:
        assert org.name not in text
        assert client.get(f"/directory/{org.id}").status_code == 404
    listed = set(_names(pages[0]) + _names(pages[1]))
    assert listed == {o.name for o in verified}


def test_grades_shown_current_rating_and_latest_final(client, db):
    org = make_org(name="夕阳红养老服务中心")
    _rating(org, 4)
    expired = make_org(name="过期等级社工中心")
    _rating(expired, 5, awarded_on=date(2015, 1, 1))
    funded(org, status=ProjectStatus.CLOSED, final=93, title="助餐项目")
    funded(org, status=ProjectStatus.IN_PROGRESS, title="探访项目")
    db.session.commit()
    html = client.get("/directory").get_data(as_text=True)
    row = html.split(f'data-org="{org.id}"')[1].split("</tr>")[0]
    assert re.search(r'data-rating="4"[^>]*>4A<', row)
    assert 'data-grade="excellent">优秀<' in row and "93.00分" in row and "助餐项目" in row
    other = html.split(f'data-org="{expired.id}"')[1].split("</tr>")[0]
    assert "5A" not in other and "data-grade" not in other
    detail = client.get(f"/directory/{org.id}").get_data(as_text=True)
    assert "4A" in detail and "优秀" in detail
    table = detail.split('data-testid="org-projects"')[1]
    assert "助餐项目" in table and "探访项目" in table and "未评价" in table


def test_credit_markers_and_debarment_end_date(client, db):
    day = today_local()
    abnormal = make_org(name="异常名录社工中心")
    _credit(abnormal, CreditKind.ABNORMAL_LIST)
    serious = make_org(name="失信名单社工中心")
    _credit(serious, CreditKind.SERIOUS_LIST, source="洛民社失〔2025〕2号")
    debarred = make_org(name="禁入期社工中心")
    _credit(debarred, CreditKind.DEBARMENT, source="洛民〔2025〕45号", end_on=date(day.year + 2, 6, 30))
    removed = make_org(name="已移出社工中心")
    _credit(removed, CreditKind.ABNORMAL_LIST, start_on=day - timedelta(days=300), removed_on=day - timedelta(days=10))
    db.session.commit()
    html = client.get("/directory").get_data(as_text=True)

    def row(org):
        return html.split(f'data-org="{org.id}"')[1].split("</tr>")[0]

    assert "列入活动异常名录" in row(abnormal)
    assert "列入严重违法失信名单" in row(serious)
    assert f"禁入期至{day.year + 2}年6月30日" in row(debarred)
    assert "credit-marker" not in row(removed)
    detail = client.get(f"/directory/{debarred.id}").get_data(as_text=True)
    assert f"禁入期至{day.year + 2}年6月30日" in detail and "洛民〔2025〕45号" in detail
    clean = client.get(f"/directory/{removed.id}").get_data(as_text=True)
    assert "未被列入活动异常名录或严重违法失信名单" in clean


def test_search_and_filters(client, db):
    a, b = make_district(name="西工区", code="410303"), make_district(name="涧西区", code="410305")
    make_org(name="西工阳光养老中心", district=a, fields=[ServiceField.ELDERLY])
    make_org(name="西工青少年发展中心", district=a, fields=[ServiceField.YOUTH], org_type=OrgType.SOCIAL_GROUP)
    filed = make_org(name="涧西社区文体队", district=b, fields=[ServiceField.CULTURE_SPORTS],
                     org_type=OrgType.FILED_COMMUNITY_ORG)
    db.session.commit()

    def names(query: str) -> set[str]:
        response = client.get(f"/directory?{query}")
        assert response.status_code == 200
        return set(_names(response.get_data(as_text=True)))

    assert names("q=西工") == {"西工阳光养老中心", "西工青少年发展中心"}
    assert names(f"district={b.id}") == {"涧西社区文体队"}
    assert names("field=youth") == {"西工青少年发展中心"}
    assert names("type=filed_community_org") == {"涧西社区文体队"}
    assert names(f"q=西工&district={a.id}&field=elderly&type=social_service_org") == {"西工阳光养老中心"}
    assert names(f"q={filed.filing_number}") == {"涧西社区文体队"}
    assert names("q=%25") == set() and names("q=_") == set()  # LIKE wildcards are literal
    everyone = {"西工阳光养老中心", "西工青少年发展中心", "涧西社区文体队"}
    assert names("q=%27%20OR%201%3D1--") == set()
    assert names("district=abc&type=x&field=%3Cb%3E&page=0") == everyone
    empty = client.get("/directory?q=不存在的组织").get_data(as_text=True)
    assert "没有找到符合条件的社会组织" in empty


def test_pagination(client, db):
    district = make_district()
    for n in range(25):
        make_org(name=f"测试组织{n:02d}", district=district)
    db.session.commit()
    first = client.get("/directory").get_data(as_text=True)
    second = client.get("/directory?page=2").get_data(as_text=True)
    assert len(_names(first)) == 20 and len(_names(second)) == 5
    assert _names(first)[0] == "测试组织00" and _names(second)[-1] == "测试组织24"
    assert "共 25 条，第 2/2 页" in second
    assert _names(client.get("/directory?page=99999").get_data(as_text=True)) == []


def test_names_are_escaped(client, db):
    org = make_org(name='<script>alert(1)</script><img src=x onerror=alert(1)>',
                   intro='<a href="javascript:alert(1)">点我</a>')
    project = funded(org, status=ProjectStatus.IN_PROGRESS, title="<b>项目</b><script>x()</script>")
    db.session.commit()
    for url in ("/directory", f"/directory/{org.id}", "/funded-projects", f"/funded-projects/{project.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html and "<b>项目" not in html, url
        assert "&lt;script&gt;" in html, url
    assert 'href="javascript:' not in client.get(f"/directory/{org.id}").get_data(as_text=True)


def test_constant_number_of_queries(app, client, db):
    def make(n: int) -> None:
        for i in range(n):
            org = make_org(name=f"组织{len(_made):03d}", district=district)
            _made.append(org)
            _rating(org, 3)
            funded(org, status=ProjectStatus.CLOSED, final=85)
            _credit(org, CreditKind.DEBARMENT, end_on=today_local() + timedelta(days=400))
        db.session.commit()

    _made: list = []
    district = make_district()
    make(2)
    client.get("/directory")  # warm up
    with count_queries(db.engine) as few:
        assert client.get("/directory").status_code == 200
    make(13)
    with count_queries(db.engine) as many:
        html = client.get("/directory").get_data(as_text=True)
    assert len(_names(html)) == 15 and html.count("优秀") + html.count("良好") >= 15
    assert len(many) == len(few), "\n".join(many)
    assert len(many) <= 12


def test_filters_keep_what_was_chosen(client, db):
    district = make_district(name="西工区")
    make_org(district=district)
    db.session.commit()
    html = client.get(f"/directory?district={district.id}&field=elderly&type=foundation").get_data(as_text=True)
    assert f'<option value="{district.id}" selected>西工区</option>' in html
    assert '<option value="elderly" selected>' in html and '<option value="foundation" selected>' in html
    assert html.count(" selected>") == 3
    html = client.get("/funded-projects?kind=purchase&status=closed").get_data(as_text=True)
    assert '<option value="purchase" selected>' in html and '<option value="closed" selected>' in html
