"""Application numbers: PREFIX-YEAR-NNNN, a sequence per (prefix, year), never twice."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from incubator.applications import services
from incubator.applications.models import Application, ApplicationNumberCounter
from incubator.applications.numbering import allocate_number, next_number
from incubator.calls.models import CallKind
from incubator.extensions import db as _db
from tests.applications.helpers import make_application, make_call, make_member, make_org, submitted_application
from tests.conftest import IS_POSTGRES


def test_sequence_per_prefix_and_year(db):
    assert [next_number("WCT", 2026) for _ in range(3)] == ["WCT-2026-0001", "WCT-2026-0002", "WCT-2026-0003"]
    assert next_number("GM", 2026) == "GM-2026-0001"
    assert next_number("WCT", 2027) == "WCT-2027-0001"
    assert next_number("WCT", 2026) == "WCT-2026-0004"
    counter = db.session.get(ApplicationNumberCounter, ("WCT", 2026))
    db.session.refresh(counter)
    assert counter.last == 4


def test_numbers_grow_past_four_digits(db):
    db.session.add(ApplicationNumberCounter(prefix="FH", year=2026, last=9999))
    db.session.flush()
    assert next_number("FH", 2026) == "FH-2026-10000"


def test_the_call_kind_and_year_choose_the_prefix(db):
    assert allocate_number(make_call(kind=CallKind.PURCHASE, year=2027)) == "GM-2027-0001"
    assert allocate_number(make_call(kind=CallKind.INCUBATION)) == "FH-2026-0001"


def test_submissions_get_consecutive_unique_numbers(db):
    call = make_call(max_applications_per_org=5)
    numbers = [submitted_application(call).number for _ in range(3)]
    assert numbers == ["WCT-2026-0001", "WCT-2026-0002", "WCT-2026-0003"]
    # Drafts and refused submissions take no number.
    draft = make_application(call, title="")
    with pytest.raises(services.SubmissionRefused):
        services.submit(draft, by=draft.created_by)
    assert draft.number is None
    assert submitted_application(call).number == "WCT-2026-0004"


def test_a_rolled_back_submission_gives_its_number_back(db):
    call = make_call()
    app = make_application(call)
    db.session.commit()
    services.submit(app, by=app.created_by)
    assert app.number == "WCT-2026-0001"
    db.session.rollback()
    app = make_application(call)
    services.submit(app, by=app.created_by)
    assert app.number == "WCT-2026-0001"


@pytest.mark.postgres
@pytest.mark.skipif(not IS_POSTGRES, reason="real row locks need PostgreSQL (TEST_DATABASE_URL)")
def test_concurrent_submissions_never_share_a_number(app, db):
    """Eight sessions submit at the same time; the counter's row lock serialises the numbers."""
    call = make_call(max_applications_per_org=10)
    ids = []
    for _ in range(8):
        org = make_org()
        ids.append(make_application(call, org, by=make_member(org)).id)
    db.session.commit()
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def submit(app_id: int) -> None:
        with app.app_context():
            try:
                application = _db.session.get(Application, app_id)
                barrier.wait(timeout=10)
                services.submit(application, by=application.created_by)
                _db.session.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                _db.session.rollback()
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=submit, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    db.session.expire_all()
    numbers = sorted(db.session.scalars(select(Application.number).where(Application.id.in_(ids))))
    assert numbers == [f"WCT-2026-{n:04d}" for n in range(1, 9)]


@pytest.mark.postgres
@pytest.mark.skipif(not IS_POSTGRES, reason="real row locks need PostgreSQL (TEST_DATABASE_URL)")
def test_parallel_submissions_of_one_application_submit_it_once(app, db):
    application = make_application(make_call())
    db.session.commit()
    app_id = application.id
    barrier = threading.Barrier(5)
    outcomes: list[str] = []

    def submit() -> None:
        with app.app_context():
            try:
                a = _db.session.get(Application, app_id)
                barrier.wait(timeout=10)
                services.submit(a, by=a.created_by)
                _db.session.commit()
                outcomes.append("ok")
            except (services.ApplicationError, Exception) as exc:  # noqa: BLE001
                _db.session.rollback()
                outcomes.append(type(exc).__name__)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count("ok") == 1, outcomes
    db.session.expire_all()
    a = db.session.get(Application, app_id)
    assert a.number == "WCT-2026-0001" and len(a.versions) == 1
    counter = db.session.get(ApplicationNumberCounter, ("WCT", 2026))
    assert counter.last == 1
