"""The staff list: scope, search, filters, sort, page sizes, constant query count, export, batch pass."""
from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from incubator.accounts.models import Role
from incubator.applications.models import Application, ApplicationStatus
from incubator.core.states import StatusHistory
from incubator.db import today_local
from incubator.notifications.models import Notification
from incubator.orgs.models import AnnualReport, AnnualReportResult, CreditKind, CreditRecord, OrgType, ServiceField, Verification
from incubator.screening import queries
from tests.querycount import count_queries as count_statements
from tests.conftest import login_as
from tests.factories import make_user
from tests.screening.helpers import bulk_submitted, make_call, make_org, make_submitted

S = ApplicationStatus
LIST = "/staff/applications/"


def _numbers(response) -> set[str]:
    import re

    return set(re.findall(r'data-app-id="\d+"[\s\S]*?<td class="app-number[^"]*"><a [^>]*>([^<]+)</a>', response.get_data(as_text=True)))


def _count_badge(response) -> int:
    import re

    m = re.search(r'data-testid="screening-count"[^>]*>(\d+)<', response.get_data(as_text=True))
    return int(m.group(1))


def _nav_count(response) -> int | None:
    import re

    m = re.search(r'<span>资格审查</span>\s*(?:<span class="badge[^>]*>(\d+)</span>)?', response.get_data(as_text=True))
    assert m, "the 资格审查 nav entry is shown"
    return int(m.group(1)) if m.group(1) else None


# --------------------------------------------------------------------------- district isolation


@pytest.fixture()
def queue(db, two_districts):
    w = two_districts
    w.app_a = make_submitted(w.org_a, w.call, by=w.member_a, title="甲区银龄互助项目")
    w.app_a2 = make_submitted(w.org_a, w.call, by=w.member_a, status=S.RESUBMITTED, title="甲区青少年成长营")
    w.app_b = make_submitted(w.org_b, w.call, by=w.member_b, title="乙区助残康复项目")
    w.passed_b = make_submitted(w.org_b, w.call, by=w.member_b, status=S.PASSED, title="乙区已通过项目")
    db.session.commit()
    return w


def test_district_staff_see_only_their_district(client, queue):
    w = queue
    login_as(client, w.staff_a)
    response = client.get(LIST)
    assert response.status_code == 200
    assert _numbers(response) == {w.app_a.number, w.app_a2.number}
    assert _count_badge(response) == 2
    assert _nav_count(response) == 2
    page = response.get_data(as_text=True)
    assert "乙区夕阳红养老服务中心" not in page and "乙区助残康复项目" not in page
    # every status, still only district A
    assert _numbers(client.get(LIST + "?status=all")) == {w.app_a.number, w.app_a2.number}
    # filtering on the other district by hand gives nothing
    assert _numbers(client.get(LIST + f"?status=all&district={w.district_b.id}")) == set()
    # search for the other district's organisation, title and number
    for q in ("乙区夕阳红", "助残康复", w.app_b.number):
        response = client.get(LIST, query_string={"q": q, "status": "all"})
        assert _numbers(response) == set() and _count_badge(response) == 0
    # direct URLs
    assert client.get(f"{LIST}{w.app_b.id}").status_code == 404
    assert client.post(f"{LIST}{w.app_b.id}/pass").status_code == 404
    # the export
    rows = _export_rows(client.get(LIST + "export?status=all"))
    assert {r[0] for r in rows} == {w.app_a.number, w.app_a2.number}


def test_city_staff_and_admin_see_every_district(client, app, queue):
    w = queue
    for user in (w.staff_city, w.admin):
        c = app.test_client()
        login_as(c, user)
        response = c.get(LIST)
        assert _numbers(response) == {w.app_a.number, w.app_a2.number, w.app_b.number}
        assert _nav_count(response) == 3
        assert _numbers(c.get(LIST + f"?district={w.district_b.id}")) == {w.app_b.number}
        assert _numbers(c.get(LIST + "?status=all")) == {w.app_a.number, w.app_a2.number, w.app_b.number, w.passed_b.number}


def test_district_staff_batch_with_another_districts_ids(db, client, queue):
    w = queue
    login_as(client, w.staff_a)
    response = client.post(LIST + "batch-pass", data={"ids": [str(w.app_b.id), str(w.app_a.id)]}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "已批量通过 1 份申报书" in page
    assert "另有 1 项不存在或不在您的审查范围内，未处理" in page
    assert w.app_b.number not in page
    db.session.expire_all()
    assert db.session.get(Application, w.app_b.id).status == S.SUBMITTED
    assert db.session.get(Application, w.app_a.id).status == S.PASSED


# --------------------------------------------------------------------------- who may open the list


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.EXPERT, Role.FINANCE, Role.EVALUATOR])
def test_others_cannot_reach_any_screening_route(db, client, queue, role):
    w = queue
    user = w.member_a if role == Role.APPLICANT else make_user(role)
    db.session.commit()
    login_as(client, user)
    for method, url in [
        ("GET", LIST), ("GET", LIST + "export"), ("POST", LIST + "batch-pass"), ("GET", f"{LIST}{w.app_a.id}"),
        ("POST", f"{LIST}{w.app_a.id}/pass"), ("POST", f"{LIST}{w.app_a.id}/return"), ("POST", f"{LIST}{w.app_a.id}/reject"),
    ]:
        response = client.open(url, method=method, data={"ids": [str(w.app_a.id)], "reason": "x"})
        assert response.status_code == 403, (method, url)
    db.session.expire_all()
    assert db.session.get(Application, w.app_a.id).status == S.SUBMITTED


def test_nav_entry_only_for_staff(client, queue):
    login_as(client, queue.member_a)
    assert "资格审查" not in client.get("/dashboard").get_data(as_text=True)


# --------------------------------------------------------------------------- search, filters, sort


def test_search_by_number_title_and_organisation(client, queue):
    w = queue
    login_as(client, w.staff_city)
    assert _numbers(client.get(LIST, query_string={"q": "银龄"})) == {w.app_a.number}
    assert _numbers(client.get(LIST, query_string={"q": "夕阳红"})) == {w.app_b.number}
    assert _numbers(client.get(LIST, query_string={"q": w.app_a2.number.lower()})) == {w.app_a2.number}
    # LIKE wildcards are literal
    assert _numbers(client.get(LIST, query_string={"q": "%"})) == set()
    assert _numbers(client.get(LIST, query_string={"q": "_"})) == set()


@pytest.mark.parametrize("q", ["' OR 1=1--", "\" OR \"\"=\"", "1; DROP TABLE application;--", "\x00", "甲" * 500])
def test_hostile_search_is_harmless(db, client, queue, q):
    login_as(client, queue.staff_city)
    response = client.get(LIST, query_string={"q": q, "status": "all", "call": "' OR 1=1--", "district": "-1",
                                              "field": "x", "flag": "1=1", "sort": "id; --", "per_page": "100000", "page": "abc"})
    assert response.status_code == 200
    # nothing matches; a lone NUL byte is dropped, leaving an empty search (every row)
    assert _numbers(response) == (set() if q != "\x00" else {a.number for a in (queue.app_a, queue.app_a2, queue.app_b, queue.passed_b)})
    assert db.session.scalar(select(Application).limit(1)) is not None


def test_filters(db, client, queue):
    w = queue
    other_call = make_call(title="2026年乙区政府购买服务")
    youth = make_submitted(w.org_a, other_call, by=w.member_a, field="youth", title="青少年项目")
    db.session.commit()
    login_as(client, w.staff_city)
    assert _numbers(client.get(LIST + f"?call={other_call.id}")) == {youth.number}
    assert _numbers(client.get(LIST + "?field=youth")) == {youth.number}
    assert _numbers(client.get(LIST + "?status=resubmitted")) == {w.app_a2.number}
    assert _numbers(client.get(LIST + "?status=passed")) == {w.passed_b.number}
    assert _numbers(client.get(LIST + f"?district={w.district_a.id}&status=all")) == {w.app_a.number, w.app_a2.number, youth.number}


def test_sort_and_page_sizes(db, client, two_districts):
    w = two_districts
    low = make_submitted(w.org_a, w.call, by=w.member_a, **{"budget-0-unit_price": "500"}, minutes_ago=5)
    high = make_submitted(w.org_b, w.call, by=w.member_b, minutes_ago=1)
    db.session.commit()
    login_as(client, w.staff_city)

    def order(url):
        page = client.get(url).get_data(as_text=True)
        return [n for n in (low.number, high.number) if n in page] and sorted((low.number, high.number), key=page.index)

    assert order(LIST + "?sort=grant_desc") == [high.number, low.number]
    assert order(LIST + "?sort=grant_asc") == [low.number, high.number]
    assert order(LIST + "?sort=submitted_asc") == [low.number, high.number]
    assert order(LIST + "?sort=submitted_desc") == [high.number, low.number]
    assert order(LIST + "?sort=org") == [high.number, low.number]  # 乙 (U+4E59) before 甲 (U+7532)
    bulk_submitted(w.org_a, w.call, 55)
    db.session.commit()
    assert len(_rows(client.get(LIST))) == 20
    assert len(_rows(client.get(LIST + "?per_page=50"))) == 50
    assert len(_rows(client.get(LIST + "?per_page=100"))) == 57
    assert len(_rows(client.get(LIST + "?per_page=20&page=3"))) == 17
    assert len(_rows(client.get(LIST + "?per_page=20&page=99"))) == 17  # past the end: the last page


def _rows(response) -> list[str]:
    import re

    return re.findall(r'<tr data-app-id="(\d+)"', response.get_data(as_text=True))


def test_amounts_are_right_aligned_money(client, queue):
    login_as(client, queue.staff_city)
    page = client.get(LIST).get_data(as_text=True)
    assert f'href="/staff/applications/{queue.app_a.id}"' in page  # rows link to the screening page
    assert '<td class="text-end font-monospace">¥36,000.00</td>' in page
    assert '<td class="text-end font-monospace">¥60,000.00</td>' in page


# --------------------------------------------------------------------------- eligibility flags


def _flag_cases(db, w):
    """Organisations with each kind of problem (and clean ones); returns {key: application}."""
    today = today_local()
    strict = make_call(title="仅限甲区、成立满3年的社会服务机构", district=w.district_a, district_orgs_only=True,
                       min_years_since_founding=3, allowed_org_types=[OrgType.SOCIAL_SERVICE_ORG.value])
    lenient = make_call(title="不要求年报", require_annual_report_pass=False)
    cases = {}
    cases["clean"] = make_submitted(w.org_a, w.call, by=w.member_a)
    cases["clean_strict"] = make_submitted(w.org_a, strict, by=w.member_a)
    unverified = make_org(district=w.district_a, status=Verification.PENDING)
    cases["unverified"] = make_submitted(unverified, w.call)
    listed = make_org(district=w.district_a)
    db.session.add(CreditRecord(org_id=listed.id, kind=CreditKind.ABNORMAL_LIST, reason="未按时报送年报", source="洛民〔2026〕1号",
                                start_on=today - timedelta(days=10)))
    cases["credit"] = make_submitted(listed, w.call)
    expired = make_org(district=w.district_a)
    db.session.add(CreditRecord(org_id=expired.id, kind=CreditKind.DEBARMENT, reason="违约", source="x",
                                start_on=today - timedelta(days=900), end_on=today - timedelta(days=1)))
    cases["clean_expired_record"] = make_submitted(expired, w.call)
    failed = make_org(district=w.district_a)
    latest = db.session.scalar(select(AnnualReport).where(AnnualReport.org_id == failed.id).order_by(AnnualReport.year.desc()))
    latest.result = AnnualReportResult.FAIL
    cases["annual"] = make_submitted(failed, w.call)
    from tests.factories import make_org as bare_org

    no_report = bare_org(district=w.district_a, founded_on=date(2015, 1, 1))
    cases["annual_missing"] = make_submitted(no_report, w.call)
    cases["clean_missing_not_required"] = make_submitted(no_report, lenient)
    filed = bare_org(district=w.district_a, org_type=OrgType.FILED_COMMUNITY_ORG, host_org_id=w.org_a.id)
    cases["clean_filed"] = make_submitted(filed, w.call)
    cases["call_rules_district"] = make_submitted(w.org_b, strict, by=w.member_b)
    young = make_org(district=w.district_a, founded_on=today - timedelta(days=365 * 2))
    cases["call_rules_young"] = make_submitted(young, strict)
    foundation = make_org(district=w.district_a, org_type=OrgType.FOUNDATION)
    cases["call_rules_type"] = make_submitted(foundation, strict)
    db.session.commit()
    return cases


def test_sql_flags_agree_with_the_eligibility_service(db, two_districts):
    """The list's SQL filter and the row flags (eligibility_for) say the same for every case."""
    from incubator.calls.services import eligibility_for

    w = two_districts
    cases = _flag_cases(db, w)
    filters = queries.ListFilters(status="all")
    calls = queries.visible_calls()
    for key in ("any", "none", *queries.FLAG_LABELS):
        filters.flag = key
        got = {a.id for a in queries.list_page(w.admin, filters, 1, calls=calls).items}
        expected = set()
        for name, app in cases.items():
            flags = queries.row_flags(app)
            if key == "any" and not flags.ok or key == "none" and flags.ok or key in flags.keys:
                expected.add(app.id)
        assert got == expected, key
    for name, app in cases.items():
        flags = queries.row_flags(app)
        assert flags.ok == name.startswith("clean"), name
        assert flags.ok == eligibility_for(app.call, app.org).ok, name
        if not name.startswith("clean"):
            assert name.split("_")[0] in flags.keys or name.startswith("call_rules") and "call_rules" in flags.keys, name


def test_flag_filter_and_pills_on_the_page(db, client, two_districts):
    w = two_districts
    cases = _flag_cases(db, w)
    login_as(client, w.staff_city)
    response = client.get(LIST + "?flag=credit&status=all")
    assert _numbers(response) == {cases["credit"].number}
    page = response.get_data(as_text=True)
    assert 'data-flag="credit"' in page and "已被列入活动异常名录" in page  # the reason, in the pill's title
    assert "disabled title=\"有资格问题，请逐份审查\"" in page


# --------------------------------------------------------------------------- batch pass


def test_batch_pass_rules(db, client, two_districts):
    w = two_districts
    cases = _flag_cases(db, w)
    returned = make_submitted(w.org_a, w.call, by=w.member_a, status=S.RETURNED)
    db.session.commit()
    login_as(client, w.staff_city)
    ids = [cases["clean"].id, cases["clean_filed"].id, cases["credit"].id, returned.id]
    response = client.post(LIST + "batch-pass", data={"ids": [str(i) for i in ids] + ["abc", "-1", "0", "99999999999"],
                                                       "status": "rejected", "back": "status=all&per_page=50&evil=//x"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/applications/?status=all&per_page=50"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已批量通过 2 份申报书" in page
    assert f"未处理 {cases['credit'].number}" in page and "有资格问题（已被列入活动异常名录" in page
    assert f"未处理 {returned.number}" in page and "当前状态为“退回修改”，不在待审查状态" in page
    db.session.expire_all()
    status = {k: db.session.get(Application, a.id).status for k, a in cases.items()}
    assert status["clean"] == S.PASSED and status["clean_filed"] == S.PASSED
    assert status["credit"] == S.SUBMITTED
    assert db.session.get(Application, returned.id).status == S.RETURNED
    # each one audited with its own history row and notified
    for key in ("clean", "clean_filed"):
        h = db.session.scalars(select(StatusHistory).where(StatusHistory.object_id == cases[key].id)).one()
        assert h.to_status == "passed" and "批量通过" in h.note and h.by_id == w.staff_city.id
    assert db.session.scalars(select(Notification).where(Notification.title == f"资格审查通过：{cases['clean'].number}")).all()


def test_batch_pass_needs_a_selection_and_a_limit(db, client, two_districts):
    w = two_districts
    apps = bulk_submitted(w.org_a, w.call, 101)
    db.session.commit()
    login_as(client, w.staff_city)
    page = client.post(LIST + "batch-pass", data={}, follow_redirects=True).get_data(as_text=True)
    assert "请先勾选要通过的申报书" in page
    page = client.post(LIST + "batch-pass", data={"ids": [str(a.id) for a in apps]}, follow_redirects=True).get_data(as_text=True)
    assert "一次最多批量通过100份申报书" in page
    db.session.expire_all()
    assert all(db.session.get(Application, a.id).status == S.SUBMITTED for a in apps)


# --------------------------------------------------------------------------- constant query count




def test_list_runs_a_constant_number_of_queries(db, client, two_districts):
    w = two_districts
    # Rows of many organisations with credit records, reports, and two calls (one district call).
    district_call = make_call(district=w.district_a, title="甲区专项")
    for i in range(12):
        org = make_org(district=w.district_a if i % 2 else w.district_b, fields=[ServiceField.ELDERLY, ServiceField.YOUTH])
        db.session.add(CreditRecord(org_id=org.id, kind=CreditKind.ABNORMAL_LIST, reason="r", source="s", start_on=date(2020, 1, 1),
                                    end_on=None if i % 3 == 0 else date(2020, 6, 1)))  # every 3rd still listed
        bulk_submitted(org, district_call if i % 3 else w.call, 10, grant=Decimal(1000 + i))
    db.session.commit()
    counts = {}
    for user in (w.admin, w.staff_a):
        login_as(client, user)
        for size in (20, 100):
            for extra in ("", "&flag=any", "&q=项目&sort=org"):
                client.get(LIST + f"?per_page={size}{extra}")  # warm caches (calendar, mappers)
                with count_statements(db.engine) as statements:
                    response = client.get(LIST + f"?per_page={size}{extra}")
                assert response.status_code == 200
                counts[(user.id, size, extra)] = len(statements)
                if size == 100 and user is w.admin and extra != "&flag=any":
                    assert len(_rows(response)) == 100
                assert _rows(response), (user.id, size, extra)
    for user in (w.admin, w.staff_a):
        for extra in ("", "&flag=any", "&q=项目&sort=org"):
            assert counts[(user.id, 20, extra)] == counts[(user.id, 100, extra)], counts
    assert max(counts.values()) <= 16, counts


# --------------------------------------------------------------------------- export


def _export_rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ws = load_workbook(io.BytesIO(response.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "申报编号"
    return rows[1:]


def test_export_contents(db, client, two_districts):
    w = two_districts
    evil = make_submitted(w.org_a, w.call, by=w.member_a, title='=HYPERLINK("http://x","点击")')
    plus = make_submitted(w.org_a, w.call, by=w.member_a, title="+cmd|' /C calc'!A0")
    listed = make_org(district=w.district_a, name="@SUM(1)社工中心")
    db.session.add(CreditRecord(org_id=listed.id, kind=CreditKind.SERIOUS_LIST, reason="严重违法", source="洛民〔2026〕2号",
                                start_on=today_local() - timedelta(days=3)))
    flagged = make_submitted(listed, w.call, title="正常标题")
    db.session.commit()
    login_as(client, w.staff_a)
    response = client.get(LIST + "export?status=all&sort=number")
    assert "attachment;" in response.headers["Content-Disposition"]
    rows = {r[0]: r for r in _export_rows(response)}
    assert set(rows) == {evil.number, plus.number, flagged.number}
    row = rows[evil.number]
    assert row[1] == "'=HYPERLINK(\"http://x\",\"点击\")"
    assert rows[plus.number][1].startswith("'+cmd")
    assert rows[flagged.number][2] == "'@SUM(1)社工中心"
    assert row[7] == 36000 and isinstance(row[7], (int, float))  # money is a number
    assert row[8] == 24000 and row[9] == 60000
    assert row[12] == "已提交" and row[13] == 1
    assert row[14] == "无"
    assert "已被列入严重违法失信名单" in rows[flagged.number][14]
    # the export follows the filters
    only = _export_rows(client.get(LIST + "export", query_string={"q": "正常标题"}))
    assert [r[0] for r in only] == [flagged.number]
