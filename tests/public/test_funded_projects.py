"""资助项目 (/funded-projects): signed projects only, with number, org, amount, term, status and final
grade; search, filters, pagination, constant queries; the project page links the published contract."""
from __future__ import annotations

import re

from incubator.orgs.models import Verification
from incubator.projects.models import ProjectKind, ProjectStatus
from tests.factories import make_district, make_org
from tests.querycount import count_queries
from tests.public.helpers import funded


def _titles(html: str) -> list[str]:
    return re.findall(r'class="fw-semibold">([^<]+)</a><div class="small text-muted">', html)


def test_signed_projects_only_with_their_facts(client, db):
    org = make_org(name="阳光社工服务中心")
    launched = funded(org, status=ProjectStatus.LAUNCHED, title="未签约项目")
    rows = {s: funded(org, status=s, title=f"{s.label}项目", amount="88000.50", final=95 if s == ProjectStatus.CLOSED else None)
            for s in (ProjectStatus.CONTRACTED, ProjectStatus.IN_PROGRESS, ProjectStatus.CLOSED, ProjectStatus.TERMINATED)}
    db.session.commit()
    html = client.get("/funded-projects").get_data(as_text=True)
    assert set(_titles(html)) == {"已签约项目", "执行中项目", "已结项项目", "已终止项目"}
    assert "未签约项目" not in html and launched.number not in html
    closed = html.split(f'data-project="{rows[ProjectStatus.CLOSED].id}"')[1].split("</tr>")[0]
    assert rows[ProjectStatus.CLOSED].number in closed and "阳光社工服务中心" in closed
    assert "¥88,000.50" in closed and "2026年3月1日" in closed and "2027年2月28日" in closed
    assert "已结项" in closed and 'data-grade="excellent"' in closed and "95.00分" in closed
    running = html.split(f'data-project="{rows[ProjectStatus.IN_PROGRESS].id}"')[1].split("</tr>")[0]
    assert "未评价" in running
    assert client.get(f"/funded-projects/{launched.id}").status_code == 404


def test_projects_of_unverified_organisations_stay_hidden(client, db):
    org = make_org(name="待认证组织")
    project = funded(org, status=ProjectStatus.IN_PROGRESS, title="隐藏项目")
    org.status = Verification.PENDING  # cannot happen through the services; the public side holds anyway
    db.session.commit()
    assert "隐藏项目" not in client.get("/funded-projects").get_data(as_text=True)
    assert client.get(f"/funded-projects/{project.id}").status_code == 404
    assert client.get("/funded-projects/99999999999").status_code == 404
    assert client.get("/funded-projects/0").status_code == 404


def test_search_and_filters(client, db):
    a, b = make_district(name="西工区", code="410303"), make_district(name="涧西区", code="410305")
    org_a = make_org(name="西工阳光养老中心", district=a)
    org_b = make_org(name="涧西青少年发展中心", district=b)
    p1 = funded(org_a, status=ProjectStatus.IN_PROGRESS, title="助餐服务", budget_year=2025)
    funded(org_a, status=ProjectStatus.CLOSED, title="探访服务", budget_year=2026)
    p3 = funded(org_b, status=ProjectStatus.TERMINATED, title="课后托管", budget_year=2026)
    p3.kind = ProjectKind.GRANT
    db.session.commit()

    def titles(query: str) -> set[str]:
        response = client.get(f"/funded-projects?{query}")
        assert response.status_code == 200
        return set(_titles(response.get_data(as_text=True)))

    everything = {"助餐服务", "探访服务", "课后托管"}
    assert titles("") == everything
    assert titles("q=涧西") == {"课后托管"}
    assert titles(f"q={p1.number}") == {"助餐服务"}
    assert titles("year=2026") == {"探访服务", "课后托管"}
    assert titles("kind=grant") == {"课后托管"}
    assert titles("kind=purchase") == {"助餐服务", "探访服务"}
    assert titles(f"district={a.id}") == {"助餐服务", "探访服务"}
    assert titles("status=closed") == {"探访服务"}
    assert titles(f"status=terminated&district={b.id}&year=2026&kind=grant") == {"课后托管"}
    assert titles("status=launched&year=0001&kind=x&district=-1&page=abc") == everything
    assert titles("q=%27%20OR%201%3D1--") == set() and titles("q=%25") == set()
    html = client.get("/funded-projects").get_data(as_text=True)
    assert '<option value="2026">2026年度</option>' in html and '<option value="launched"' not in html


def test_pagination_and_constant_queries(client, db):
    org = make_org()
    for n in range(3):
        funded(org, status=ProjectStatus.CLOSED, final=88, title=f"项目{n:02d}")
    db.session.commit()
    client.get("/funded-projects")
    with count_queries(db.engine) as few:
        client.get("/funded-projects")
    for n in range(3, 25):
        other = make_org(district=org.district)
        funded(other, status=ProjectStatus.CLOSED, final=70 + n % 25, title=f"项目{n:02d}")
    db.session.commit()
    with count_queries(db.engine) as many:
        first = client.get("/funded-projects").get_data(as_text=True)
    assert len(few) == len(many), "\n".join(many)
    assert len(_titles(first)) == 20
    second = client.get("/funded-projects?page=2").get_data(as_text=True)
    assert len(_titles(second)) == 5 and "共 25 条，第 2/2 页" in second
    assert set(_titles(first)) | set(_titles(second)) == {f"项目{n:02d}" for n in range(25)}


def test_project_page_links_the_published_contract(client, db):
    from incubator.projects.contracts import services as contracts
    from tests.projects.contracts.helpers import contract_world, in_force

    project, staff, member = contract_world()
    contract = in_force(project, staff, member)
    db.session.commit()
    html = client.get(f"/funded-projects/{project.id}").get_data(as_text=True)
    assert "合同摘要尚未公开" in html and "contract-link" not in html
    contracts.publish(contract, by=staff)
    db.session.commit()
    html = client.get(f"/funded-projects/{project.id}").get_data(as_text=True)
    assert f'href="/contracts/{contract.id}"' in html and contract.number in html
    assert project.number in html and "¥100,000.00" in html


def test_project_page_shows_midterm_and_final_grades(client, db):
    org = make_org()
    project = funded(org, status=ProjectStatus.CLOSED, final=62)
    db.session.commit()
    html = client.get(f"/funded-projects/{project.id}").get_data(as_text=True)
    grades = html.split('data-testid="project-grades"')[1].split("</ul>")[0]
    assert "中期评估" in grades and "未评价" in grades
    assert 'data-grade="pass">合格<' in grades and "62.00分" in grades


def test_portal_navigation_links(client, db):
    html = client.get("/funded-projects").get_data(as_text=True)
    nav = html.split('class="portal-nav"')[1].split("</nav>")[0]
    for href, label in (("/directory", "社会组织名录"), ("/funded-projects", "资助项目"), ("/contracts", "合同公开")):
        assert f'href="{href}">{label}</a>' in nav
