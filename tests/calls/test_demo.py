from incubator.calls.demo import seed_calls
from incubator.calls.models import CallKind, CallStatus
from incubator.db import today_local, utcnow
from incubator.extensions import db as _db


def test_seed_calls_cover_every_state(db, staff, districts):
    calls = seed_calls(today_local(), staff)
    _db.session.commit()
    now = utcnow()
    statuses = [c.status_at(now) for c in calls]
    assert statuses == [CallStatus.DRAFT, CallStatus.PUBLISHED, CallStatus.OPEN, CallStatus.OPEN,
                        CallStatus.CLOSED, CallStatus.ARCHIVED]
    city_open, district_open = calls[2], calls[3]
    assert city_open.kind == CallKind.MICRO_VENTURE and city_open.district_id is None
    assert city_open.budget_caps and city_open.fields and city_open.attachment_types
    assert "洛阳市公益微创投大赛项目申报通知" in city_open.title
    assert district_open.kind == CallKind.PURCHASE and district_open.district_id is not None
    assert district_open.district_orgs_only
    for c in calls:
        assert c.closes_at > c.opens_at and c.grant_max <= c.fund_pool
        assert "\n" in c.notice and "洛阳" in c.notice
