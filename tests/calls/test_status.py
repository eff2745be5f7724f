"""A call's status comes from its dates: at each boundary, in Python and in SQL alike."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from incubator.calls.models import Call, CallStatus
from incubator.extensions import db
from tests.calls.helpers import make_call

T0 = datetime(2026, 3, 1, 1, 0, 0)  # opens (UTC)
T1 = datetime(2026, 3, 31, 9, 30, 0)  # closes (UTC)
PUB = datetime(2026, 2, 20, 2, 0, 0)
ARCH = datetime(2026, 5, 1, 0, 0, 0)
SEC = timedelta(seconds=1)


def _call(**kw) -> Call:
    base = dict(opens_at=T0, closes_at=T1, published_at=PUB)
    base.update(kw)
    return make_call(**base)


@pytest.mark.parametrize(
    "published_at, archived_at, now, expected",
    [
        (None, None, T0, CallStatus.DRAFT),
        (None, None, T1 + SEC, CallStatus.DRAFT),
        (PUB, None, PUB - SEC, CallStatus.DRAFT),  # publication scheduled later: still a draft
        (PUB, None, PUB, CallStatus.PUBLISHED),
        (PUB, None, T0 - SEC, CallStatus.PUBLISHED),
        (PUB, None, T0, CallStatus.OPEN),  # the open time itself is open
        (PUB, None, T1 - SEC, CallStatus.OPEN),
        (PUB, None, T1, CallStatus.CLOSED),  # the close time itself is closed
        (PUB, None, T1 + timedelta(days=30), CallStatus.CLOSED),
        (PUB, ARCH, ARCH - SEC, CallStatus.CLOSED),
        (PUB, ARCH, ARCH, CallStatus.ARCHIVED),
        (None, ARCH, ARCH, CallStatus.ARCHIVED),  # an abandoned draft
    ],
)
def test_status_at_boundaries(db, published_at, archived_at, now, expected):
    call = _call(published_at=published_at, archived_at=archived_at)
    assert call.status_at(now) == expected
    # …and the SQL clause picks exactly this call for exactly this status.
    for status in CallStatus:
        ids = set(db.session.scalars(db.select(Call.id).where(Call.status_clause(status, now))))
        assert (call.id in ids) == (status == expected), (status, now)


def test_sql_status_filters_agree_with_python_for_many_calls_and_times(db):
    calls = []
    pubs = [None, PUB, T0 + SEC, T1 + SEC]
    archs = [None, T1 - SEC, T1, ARCH]
    for pub in pubs:
        for arch in archs:
            calls.append(_call(published_at=pub, archived_at=arch))
    db.session.commit()
    times = [PUB - SEC, PUB, T0 - SEC, T0, T0 + SEC, T1 - SEC, T1, T1 + SEC, ARCH - SEC, ARCH, ARCH + SEC]
    for now in times:
        for status in CallStatus:
            in_sql = set(db.session.scalars(db.select(Call.id).where(Call.status_clause(status, now))))
            in_python = {c.id for c in calls if c.status_at(now) == status}
            assert in_sql == in_python, (now, status)
        # the CASE expression used for counts agrees too
        rows = dict(db.session.execute(db.select(Call.id, Call.status_expr(now))).all())
        assert rows == {c.id: c.status_at(now).value for c in calls}


def test_close_must_follow_open_in_the_database(db):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        _call(opens_at=T1, closes_at=T0)
    db.session.rollback()
