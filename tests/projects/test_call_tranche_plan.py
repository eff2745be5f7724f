"""The per-call tranche plan (分期拨付计划): set in the call editor, shown on the call page, the default of
a launched project's schedule."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from incubator.accounts.models import Role
from incubator.calls.models import Call
from incubator.extensions import db as _db
from incubator.projects import services
from incubator.projects.models import TrancheCondition
from tests.calls.helpers import make_call, valid_form
from tests.conftest import login_as
from tests.factories import make_user
from tests.projects.helpers import launch

C = TrancheCondition


def _plan(*rows):
    data = {}
    for i, (share, condition) in enumerate(rows):
        data[f"tranche_plan-{i}-share"] = share
        data[f"tranche_plan-{i}-condition"] = condition
    return data


def test_a_new_call_starts_with_50_30_20_and_keeps_it(client, db):
    staff = make_user(Role.STAFF)
    _db.session.commit()
    login_as(client, staff)
    page = client.get("/staff/calls/new").get_data(as_text=True)
    assert "分期拨付计划" in page and 'value="50.00"' in page
    r = client.post("/staff/calls/new", data=valid_form())  # no plan rows: the default
    assert r.status_code == 302
    call = _db.session.scalar(select(Call))
    assert call.tranche_plan == []
    assert call.tranche_plan_rows == [(Decimal(50), "on_signing"), (Decimal(30), "on_midterm_pass"),
                                      (Decimal(20), "on_final_acceptance")]
    page = client.get(f"/staff/calls/{call.id}").get_data(as_text=True)
    assert "分期拨付计划" in page and "中期评估合格后" in page


def test_staff_set_a_plan_and_projects_start_from_it(client, db):
    staff = make_user(Role.STAFF)
    _db.session.commit()
    login_as(client, staff)
    r = client.post("/staff/calls/new", data=valid_form(**_plan(("60", "on_signing"), ("40", "on_final_acceptance"))))
    assert r.status_code == 302
    call = _db.session.scalar(select(Call))
    assert call.tranche_plan == [["60.00", "on_signing"], ["40.00", "on_final_acceptance"]]
    page = client.get(f"/staff/calls/{call.id}").get_data(as_text=True)
    assert "结项验收后" in page and "中期评估合格后" not in page.split("分期拨付计划", 1)[1].split("</ol>", 1)[0]
    project = launch(call=call)
    assert services.default_plan(project) == [(Decimal(60), C.ON_SIGNING), (Decimal(40), C.ON_FINAL_ACCEPTANCE)]


def test_a_plan_that_does_not_add_up_is_refused_and_kept(client, db):
    staff = make_user(Role.STAFF)
    _db.session.commit()
    login_as(client, staff)
    for rows, message in (((("60", "on_signing"), ("30", "on_final_acceptance")), "之和必须等于100%"),
                          ((("60", "on_signing"), ("40", "")), "请选择该期的拨付条件"),
                          ((("60.001", "on_signing"), ("40", "on_final_acceptance")), "最多保留2位小数"),
                          ((("abc", "on_signing"),), "格式不正确"),
                          ((("100", "sometime"),), "不是有效的选择")):
        r = client.post("/staff/calls/new", data=valid_form(**_plan(*rows)))
        assert r.status_code == 422, rows
        page = r.get_data(as_text=True)
        assert message in page, (rows, message)
        assert rows[0][0] in page
    assert _db.session.scalar(select(Call)) is None


def test_the_editor_shows_a_saved_plan(client, db):
    staff = make_user(Role.STAFF)
    call = make_call(published=False, tranche_plan=[["70", "on_signing"], ["30", "on_final_acceptance"]])
    _db.session.commit()
    login_as(client, staff)
    page = client.get(f"/staff/calls/{call.id}/edit").get_data(as_text=True)
    assert 'value="70.00"' in page and 'value="30.00"' in page


def test_the_service_refuses_a_bad_plan(db):
    from incubator.calls import services as calls
    from tests.calls.helpers import local_input  # noqa: F401 - same helpers as the editor tests

    staff = make_user(Role.STAFF)
    call = make_call(published=False)
    data = calls.CallData(kind=call.kind, year=call.year, title=call.title, notice=call.notice, district_id=None,
                          opens_at=call.opens_at, closes_at=call.closes_at, fund_pool=call.fund_pool,
                          grant_max=call.grant_max, tranche_plan=[(Decimal(50), "on_signing")])
    import pytest

    with pytest.raises(calls.CallInvalid, match="分期拨付计划"):
        calls.update_call(call, by=staff, data=data, expected_version=None)
