"""The staff organisation record's 承接项目与绩效评价 card (incubator.public.services.project_record)."""
from __future__ import annotations

from incubator.accounts.models import Role
from incubator.projects.models import ProjectStatus
from incubator.public import services
from tests.conftest import login_as
from tests.factories import make_org, make_user
from tests.querycount import count_queries
from tests.public.helpers import funded


def test_project_record_lists_every_project_with_its_final_grade(db):
    org, other = make_org(), make_org()
    launched = funded(org, status=ProjectStatus.LAUNCHED, title="刚立项")
    closed = funded(org, status=ProjectStatus.CLOSED, final=81, title="已结项")
    funded(other, status=ProjectStatus.CLOSED, final=99)
    db.session.commit()
    org_id = org.id
    with count_queries(db.engine) as queries:
        rows = services.project_record(org)
    assert [r.project.id for r in rows] == [closed.id, launched.id]
    assert rows[0].final.grade.label == "良好" and rows[1].final is None
    assert len(queries) == 2, queries


def test_staff_see_the_card_with_links(client, db):
    org = make_org(name="阳光社工服务中心")
    staff = make_user(Role.STAFF, district=org.district)
    closed = funded(org, by=staff, status=ProjectStatus.CLOSED, final=91, title="助餐项目", amount="60000.00")
    launched = funded(org, by=staff, status=ProjectStatus.LAUNCHED, title="新立项目")
    db.session.commit()
    login_as(client, staff)
    html = client.get(f"/orgs/{org.id}").get_data(as_text=True)
    card = html.split('id="projects"')[1]
    assert "承接项目与绩效评价" in html
    assert f'href="/projects/{closed.id}"' in card and f'href="/projects/{launched.id}"' in card
    assert "¥60,000.00" in card and "优秀" in card and "91.00分" in card and "已立项" in card and "未评价" in card


def test_card_empty_state(client, db):
    org = make_org()
    staff = make_user(Role.STAFF)
    db.session.commit()
    login_as(client, staff)
    html = client.get(f"/orgs/{org.id}").get_data(as_text=True)
    assert "该组织尚未承接资助项目" in html
